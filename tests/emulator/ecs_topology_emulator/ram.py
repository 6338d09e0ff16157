"""AWS RAM as the API reference describes it, for sharing Cloud Map namespaces across accounts.

What this adds to stock moto (state lives on moto's per-account backends and shares, so
``/moto-api/reset`` wipes it):

- Cloud Map namespace ARNs (``arn:aws:servicediscovery:REGION:ACCOUNT:namespace/ns-...``) are
  shareable (resource type ``servicediscovery:Namespace``) when the namespace exists in the
  share's account and region (``UnknownResourceException`` otherwise; another account's namespace
  is ``OperationNotPermittedException``).
- The AWS managed permission ``AWSRAMPermissionCloudMapECSFullPermission``
  (``arn:aws:ram::aws:permission/AWSRAMPermissionCloudMapECSFullPermission``) is the default for
  ``servicediscovery:Namespace`` and is known to ``ListPermissions``, ``GetPermission`` and
  ``ListResourceTypes``.
- ``CreateResourceShare`` keeps ``permissionArns`` (one per resource type; every resource type
  without one gets its default permission) and ``tags``.
- Associations: every principal counts as inside the Organization, so principal and resource
  associations are ASSOCIATED at once and never need an invitation (the Associate reply shows
  ASSOCIATING and the Disassociate reply DISASSOCIATING, as AWS answers). Removed associations
  stay listed as DISASSOCIATED. Deleting a share disassociates everything and sets it DELETED.
- ``Associate/DisassociateResourceShare``, ``Associate/DisassociateResourceSharePermission``,
  ``ListResourceSharePermissions``, ``GetPermission``, ``TagResource``/``UntagResource``,
  ``ListResources``, ``ListPrincipals`` and ``GetResourceShareInvitations`` (always empty).
- ``GetResourceShares``: ``resourceOwner`` SELF or OTHER-ACCOUNTS, filters ``resourceShareArns``,
  ``resourceShareStatus``, ``name``, ``tagFilters`` (all filters must match; a filter matches any
  of its values, or any value when it lists none), ``permissionArn``/``permissionVersion``;
  DELETED shares are listed only when ``resourceShareStatus`` asks for them. ``maxResults``
  (1-500, default 500) and ``nextToken`` paging here and in ``GetResourceShareAssociations``,
  ``ListResources``, ``ListPrincipals``, ``ListPermissions`` and ``ListResourceSharePermissions``.
- ``UpdateResourceShare`` keeps the name and ``allowExternalPrincipals`` when they are absent.
- ``clientToken`` idempotency wherever the API has one: the same token with the same parameters
  replays the first reply and changes nothing; with other parameters it fails with
  ``IdempotentParameterMismatchException``. Tokens are remembered ``ram.client_token_ttl`` seconds
  (default 86400). Without a token, the reply carries a generated one.
- Cross-account visibility (``shared_resource_arns``): a resource is shared with an account while
  an ACTIVE share of its owner, in the same region, has the resource ASSOCIATED and an ASSOCIATED
  principal that reaches the account: the account id itself, an IAM role or user of that
  account, or an Organization or OU ARN when the owner's setting ``ram.organization_accounts``
  (a list of account ids, empty by default) lists the account.
"""

import contextlib
import copy
import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.core.utils import unix_time
from moto.ram import urls as ram_urls
from moto.ram import utils as ram_utils
from moto.ram.models import ResourceShare, ram_backends
from moto.ram.responses import ResourceAccessManagerResponse

from . import common, settings
from .common import ClientTokens, backend_state, decode_offset_token, encode_offset_token, fingerprint, token_ttl
from .servicediscovery import _lock

TOKEN_TTL_SETTING = "ram.client_token_ttl"
ORGANIZATION_SETTING = "ram.organization_accounts"
DEFAULT_TOKEN_TTL = 86400.0
MAX_TAGS = 50
MAX_PAGE = 500

CLOUD_MAP_TYPE = "servicediscovery:Namespace"
CLOUD_MAP_PERMISSION = "AWSRAMPermissionCloudMapECSFullPermission"
CLOUD_MAP_PERMISSION_ARN = f"arn:aws:ram::aws:permission/{CLOUD_MAP_PERMISSION}"
# The actions the Cloud Map permission grants to consumers: what ECS Service Connect needs in a
# shared namespace (read it, create services in it, register and discover instances).
CLOUD_MAP_PERMISSION_ACTIONS = [
    "servicediscovery:CreateService",
    "servicediscovery:DeleteService",
    "servicediscovery:DeleteServiceAttributes",
    "servicediscovery:DeregisterInstance",
    "servicediscovery:DiscoverInstances",
    "servicediscovery:DiscoverInstancesRevision",
    "servicediscovery:GetInstance",
    "servicediscovery:GetInstancesHealthStatus",
    "servicediscovery:GetNamespace",
    "servicediscovery:GetOperation",
    "servicediscovery:GetService",
    "servicediscovery:GetServiceAttributes",
    "servicediscovery:ListInstances",
    "servicediscovery:ListServices",
    "servicediscovery:ListTagsForResource",
    "servicediscovery:RegisterInstance",
    "servicediscovery:TagResource",
    "servicediscovery:UntagResource",
    "servicediscovery:UpdateInstanceCustomHealthStatus",
    "servicediscovery:UpdateService",
    "servicediscovery:UpdateServiceAttributes",
]

_RESOURCE_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):(?P<account>\d{12}):"
    r"(?P<resource>[A-Za-z-]+)[/:](?P<rest>.+)$"
)
_SHARE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:ram:[a-z0-9-]+:\d{12}:resource-share/[A-Za-z0-9-]+$")
_PERMISSION_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:ram:[a-z0-9-]*:(aws|\d{12}):permission/[A-Za-z0-9_.-]+$"
)
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_ORG_RE = re.compile(r"^arn:aws[a-z-]*:organizations::\d{12}:organization/o-[a-z0-9]+$")
_OU_RE = re.compile(r"^arn:aws[a-z-]*:organizations::\d{12}:ou/o-[a-z0-9]+/ou-[a-z0-9-]+$")
_IAM_RE = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):(role|user)/.+$")
_SERVICE_PRINCIPAL_RE = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com$")

_SHARE_STATUSES = ("PENDING", "ACTIVE", "FAILED", "DELETING", "DELETED")
_ASSOCIATION_STATUSES = (
    "ASSOCIATING",
    "ASSOCIATED",
    "FAILED",
    "DISASSOCIATING",
    "DISASSOCIATED",
    "SUSPENDED",
    "SUSPENDING",
    "RESTORING",
)


class RamError(JsonRESTError):
    """An error reply as the RAM model shapes it: ``__type`` and ``message``."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(code, message)
        self.code = status
        self.description = json.dumps({"__type": code, "message": message})


def _invalid(message: str) -> RamError:
    return RamError("InvalidParameterException", message)


def _unknown(message: str) -> RamError:
    return RamError("UnknownResourceException", message)


def _malformed(message: str) -> RamError:
    return RamError("MalformedArnException", message)


def _share_not_found(arn: str) -> RamError:
    return _unknown(f"ResourceShare {arn} could not be found.")


# --- state ------------------------------------------------------------------------------------

_STATE_ATTR = "_ecs_topology_ram"


def _tokens(backend) -> ClientTokens:
    """(operation, clientToken) -> the reply of the first request with that token."""
    return backend_state(backend, _STATE_ATTR, ClientTokens)


def _ext(share) -> dict:
    """Associations, permissions and tags kept on moto's ResourceShare object."""
    ext = share.__dict__.get(_STATE_ATTR)
    if ext is None:
        now = unix_time(share.creation_time)
        ext = {"assoc": {}, "permissions": {}, "tags": [], "sources": []}
        for principal in share.principals:
            ext["assoc"][("PRINCIPAL", principal)] = _new_record(None, now)
        for arn in share.resource_arns:
            ext["assoc"][("RESOURCE", arn)] = _new_record(_resource_type(arn), now)
        share.__dict__[_STATE_ATTR] = ext
    return ext


def _new_record(resource_type, now: float) -> dict:
    return {
        "status": "ASSOCIATED",
        "created": now,
        "updated": now,
        "type": resource_type,
        "external": False,
    }


def _sync_moto_lists(share) -> None:
    assoc = _ext(share)["assoc"]
    share.principals = [e for (t, e), r in assoc.items() if t == "PRINCIPAL" and _active(r)]
    share.resource_arns = [e for (t, e), r in assoc.items() if t == "RESOURCE" and _active(r)]


def _active(record: dict) -> bool:
    return record["status"] == "ASSOCIATED"


def _idempotent(backend, operation: str, params: dict, action) -> str:
    token = params.get("clientToken")
    if token is None:
        reply = action()
        reply["clientToken"] = str(uuid.uuid4())
        return json.dumps(reply)
    if not isinstance(token, str) or not token or len(token) > 64:
        raise RamError("InvalidClientTokenException", "The client token is not valid.")
    tokens = _tokens(backend)
    key = (operation, token)
    request = fingerprint({k: v for k, v in params.items() if k != "clientToken"})
    first = tokens.recall(
        key,
        request,
        ttl=token_ttl(backend.account_id, TOKEN_TTL_SETTING, DEFAULT_TOKEN_TTL),
        mismatch=lambda _reply: RamError(
            "IdempotentParameterMismatchException",
            f"The client token {token} was already used with different parameters.",
        ),
    )
    if first is not None:
        return json.dumps(first)
    reply = action()
    reply["clientToken"] = token
    tokens.remember(key, request, copy.deepcopy(reply))
    return json.dumps(reply)


def _idempotent_change(operation: str):
    """A handler of ``operation`` that makes the change ``change(params, backend)`` under the lock
    and answers its reply, once per client token (see ``_idempotent``)."""

    def wrap(change):
        def handler(self):
            with _request(self) as (params, backend):
                return _idempotent(backend, operation, params, lambda: change(params, backend))

        handler.__name__ = change.__name__
        return handler

    return wrap


# --- paging -----------------------------------------------------------------------------------


def _page(items: list, params: dict, request) -> tuple:
    """One page of ``items`` and the token of the next; ``request`` (the filters) binds the token."""
    limit = params.get("maxResults")
    if limit is None:
        limit = MAX_PAGE
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE:
        raise _invalid(f"maxResults must be between 1 and {MAX_PAGE}.")
    offset = decode_offset_token(
        params.get("nextToken"),
        request,
        lambda: RamError("InvalidNextTokenException", "The nextToken is not valid."),
    )
    page = items[offset : offset + limit]
    next_token = None
    if offset + limit < len(items):
        next_token = encode_offset_token(offset + limit, request)
    return page, next_token


def _with_token(reply: dict, next_token) -> dict:
    if next_token:
        reply["nextToken"] = next_token
    return reply


# --- resources, principals, permissions -------------------------------------------------------


def _known_resource_types() -> list:
    return [t["resourceType"] for t in ram_utils.RAM_RESOURCE_TYPES]


def _resource_type(arn: str):
    match = _RESOURCE_ARN_RE.match(arn or "")
    if not match:
        return None
    service, resource = match["service"], match["resource"]
    if service == "servicediscovery" and resource == "namespace":
        return CLOUD_MAP_TYPE
    flat = resource.replace("-", "").lower()
    for known in _known_resource_types():
        known_service, known_name = known.split(":", 1)
        if known_service == service and known_name.lower() == flat:
            return known
    return f"{service}:{''.join(p.capitalize() for p in resource.split('-'))}"


def _list_of(value, name: str) -> list:
    """The list parameter ``name`` (empty when absent); refused when it is not a list."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _invalid(f"{name} must be a list.")
    return value


def _check_resources(backend, arns) -> dict:
    """resource ARN -> resource type, for resources the caller may add to a share."""
    arns = _list_of(arns, "resourceArns")
    out = {}
    for arn in arns:
        match = _RESOURCE_ARN_RE.match(arn) if isinstance(arn, str) else None
        if not match:
            raise _malformed(
                f"The specified resource ARN {arn} is not valid. Verify the ARN and try again."
            )
        resource_type = _resource_type(arn)
        if resource_type == CLOUD_MAP_TYPE:
            from . import servicediscovery

            if match["account"] != backend.account_id:
                raise RamError(
                    "OperationNotPermittedException",
                    f"You can share only resources that your account owns: {arn}.",
                )
            if match["region"] != backend.region_name or not servicediscovery.namespace_owned(
                backend.account_id, backend.region_name, arn
            ):
                raise _unknown(f"The resource {arn} could not be found.")
        elif match["resource"] not in ResourceShare.SHAREABLE_RESOURCES:
            raise _malformed("You cannot share the selected resource type.")
        out[arn] = resource_type
    return out


def _check_principals(principals) -> list:
    principals = _list_of(principals, "principals")
    for principal in principals:
        if not isinstance(principal, str) or not (
            _ACCOUNT_RE.match(principal)
            or _ORG_RE.match(principal)
            or _OU_RE.match(principal)
            or _IAM_RE.match(principal)
            or _SERVICE_PRINCIPAL_RE.match(principal)
        ):
            raise _invalid(f"Principal ID {principal} is malformed. Verify the ID and try again.")
    return list(dict.fromkeys(principals))


def _reaches(principal: str, account_id: str, owner: str) -> bool:
    """Whether a principal association of ``owner``'s share gives ``account_id`` access.

    An account id reaches that account, an IAM role or user reaches its account, and an
    Organization or OU ARN reaches the accounts that the owner's setting
    ``ram.organization_accounts`` lists (none by default, so that a share with the Organization
    does not leak into unrelated accounts of the emulator).
    """
    if principal == account_id:
        return True
    iam = _IAM_RE.match(principal)
    if iam:
        return iam["account"] == account_id
    if _ORG_RE.match(principal) or _OU_RE.match(principal):
        members = settings.get(owner, ORGANIZATION_SETTING, []) or []
        return account_id in [str(m) for m in members]
    return False


def _epoch(value) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime):
        return unix_time(value)
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            parsed = datetime.strptime(str(value), fmt).replace(tzinfo=timezone.utc)
            return parsed.timestamp()
        except ValueError:
            continue
    return 0.0


def _find_permission(backend, arn):
    if not isinstance(arn, str) or not _PERMISSION_ARN_RE.match(arn):
        raise _malformed(f"The permission ARN {arn} is not valid. Verify the ARN and try again.")
    for permission in backend.managed_permissions:
        if permission.arn == arn:
            return permission
    raise _unknown(f"Permission {arn} could not be found.")


def _default_permission(backend, resource_type: str):
    for permission in backend.managed_permissions:
        if permission.is_resource_type_default and (
            permission.resource_type.lower() == resource_type.lower()
        ):
            return permission
    return None


def _check_version(version) -> None:
    if version is not None and version != 1:
        raise _invalid(f"Permission version {version} is not the default version (1).")


def _permission_summary(permission, association=None) -> dict:
    out = {
        "arn": permission.arn,
        "version": permission.version,
        "defaultVersion": permission.default_version,
        "name": permission.name,
        "resourceType": permission.resource_type,
        "status": permission.status,
        "creationTime": _epoch(permission.creation_time),
        "lastUpdatedTime": _epoch(permission.last_updated_time),
        "isResourceTypeDefault": permission.is_resource_type_default,
        "permissionType": permission.permission_type,
        "featureSet": "STANDARD",
    }
    if association is not None:
        out["status"] = "ASSOCIATED"
        out["lastUpdatedTime"] = association["updated"]
    return out


def _policy_document(permission) -> str:
    if permission.name == CLOUD_MAP_PERMISSION:
        actions = CLOUD_MAP_PERMISSION_ACTIONS
    else:
        actions = [f"{permission.resource_type.split(':')[0]}:*"]
    return json.dumps({"Effect": "Allow", "Action": actions})


# --- shares -----------------------------------------------------------------------------------


def _share_json(share) -> dict:
    ext = _ext(share)
    out = share.describe()
    out["tags"] = [dict(t) for t in ext["tags"]]
    return out


def _own_share(backend, arn, *, mutable: bool = True):
    if not isinstance(arn, str) or not arn:
        raise RamError("MissingRequiredParameterException", "resourceShareArn is required.")
    if not _SHARE_ARN_RE.match(arn):
        raise _malformed(
            f"The resource share ARN {arn} is not valid. Verify the ARN and try again."
        )
    for share in backend.resource_shares:
        if share.arn == arn:
            if mutable and share.status == "DELETED":
                raise RamError(
                    "InvalidStateTransitionException",
                    f"ResourceShare {arn} is DELETED and cannot be changed.",
                )
            return share
    raise _share_not_found(arn)


def _check_tags(tags) -> list:
    tags = _list_of(tags, "tags")
    for tag in tags:
        if not isinstance(tag, dict) or not isinstance(tag.get("key"), str) or not tag["key"]:
            raise _invalid("Every tag needs a non-empty key.")
        if not isinstance(tag.get("value", ""), str):
            raise _invalid("Tag values are strings.")
    return [{"key": t["key"], "value": t.get("value", "")} for t in tags]


def _merge_tags(current: list, new: list) -> list:
    merged = {t["key"]: t["value"] for t in current}
    for tag in new:
        merged[tag["key"]] = tag["value"]
    if len(merged) > MAX_TAGS:
        raise RamError(
            "TagLimitExceededException", f"A resource share can have at most {MAX_TAGS} tags."
        )
    return [{"key": k, "value": v} for k, v in merged.items()]


def _add_associations(backend, share, resources: dict, principals: list, now: float) -> list:
    """Associate resources and principals; attach default permissions for new resource types."""
    ext = _ext(share)
    touched = []
    for arn, resource_type in resources.items():
        record = ext["assoc"].get(("RESOURCE", arn))
        if record is None:
            record = _new_record(resource_type, now)
            ext["assoc"][("RESOURCE", arn)] = record
        record.update(status="ASSOCIATED", updated=now, type=resource_type)
        touched.append(("RESOURCE", arn))
        key = resource_type.lower()
        if key not in ext["permissions"]:
            default = _default_permission(backend, resource_type)
            if default is not None:
                ext["permissions"][key] = {"arn": default.arn, "created": now, "updated": now}
    for principal in principals:
        record = ext["assoc"].get(("PRINCIPAL", principal))
        if record is None:
            record = _new_record(None, now)
            ext["assoc"][("PRINCIPAL", principal)] = record
        record.update(status="ASSOCIATED", updated=now)
        touched.append(("PRINCIPAL", principal))
    _sync_moto_lists(share)
    return touched


def _association_json(share, kind: str, entity: str, record: dict, status=None) -> dict:
    return {
        "resourceShareArn": share.arn,
        "resourceShareName": share.name,
        "associatedEntity": entity,
        "associationType": kind,
        "status": status or record["status"],
        "creationTime": record["created"],
        "lastUpdatedTime": record["updated"],
        "external": record["external"],
    }


def _body(response) -> dict:
    try:
        params = json.loads(response.body or "{}")
    except ValueError as exc:
        raise _invalid("The request body is not JSON.") from exc
    if not isinstance(params, dict):
        raise _invalid("The request body is not an object.")
    return params


@contextlib.contextmanager
def _request(response) -> Iterator[tuple[dict, Any]]:
    """The request's parameters and the caller's backend, under the lock (a body that cannot be
    read is refused before it)."""
    params = _body(response)
    backend = response.ram_backend
    with _lock:
        yield params, backend


def _touch(share) -> None:
    """Record that ``share`` changed now."""
    share.last_updated_time = datetime.now(timezone.utc).replace(tzinfo=None)


def _changed(share, pairs, status: str) -> dict:
    """The reply to a change of the associations ``pairs`` (kind, entity) of ``share``, which
    changed now: each association in ``status``."""
    _touch(share)
    assoc = _ext(share)["assoc"]
    return {
        "resourceShareAssociations": [
            _association_json(share, kind, entity, assoc[(kind, entity)], status) for kind, entity in pairs
        ]
    }


def create_resource_share(self):
    with _request(self) as (params, backend):
        name = params.get("name")
        if not isinstance(name, str) or not name:
            raise _invalid("name is required.")
        allow_external = params.get("allowExternalPrincipals", True)
        if not isinstance(allow_external, bool):
            raise _invalid("allowExternalPrincipals must be a boolean.")

        def create():
            resources = _check_resources(backend, params.get("resourceArns"))
            principals = _check_principals(params.get("principals"))
            tags = _check_tags(params.get("tags"))
            if len({t["key"] for t in tags}) > MAX_TAGS:
                raise RamError(
                    "TagLimitExceededException",
                    f"A resource share can have at most {MAX_TAGS} tags.",
                )
            permission_arns = params.get("permissionArns") or []
            if not isinstance(permission_arns, list):
                raise _invalid("permissionArns must be a list.")
            chosen = {}
            for arn in permission_arns:
                permission = _find_permission(backend, arn)
                key = permission.resource_type.lower()
                if key in chosen and chosen[key] != arn:
                    raise _invalid(
                        f"Only one permission per resource type: {permission.resource_type}."
                    )
                chosen[key] = arn
            share = ResourceShare(
                backend.account_id,
                backend.region_name,
                name=name,
                allowExternalPrincipals=allow_external,
            )
            now = unix_time(share.creation_time)
            ext = _ext(share)
            ext["tags"] = tags
            ext["sources"] = list(params.get("sources") or [])
            ext["permissions"] = {
                key: {"arn": arn, "created": now, "updated": now} for key, arn in chosen.items()
            }
            _add_associations(backend, share, resources, principals, now)
            backend.resource_shares.append(share)
            return {"resourceShare": _share_json(share)}

        return _idempotent(backend, "CreateResourceShare", params, create)


def _other_accounts_shares(account_id: str, region: str) -> list:
    shares = []
    for owner, per_account in list(dict.items(ram_backends)):
        if owner == account_id:
            continue
        backend = dict.get(per_account, region)
        if backend is None:
            continue
        for share in backend.resource_shares:
            if share.status == "ACTIVE" and _reaches_account(share, account_id):
                shares.append(share)
    return shares


def _reaches_account(share, account_id: str) -> bool:
    return any(
        kind == "PRINCIPAL"
        and _active(record)
        and _reaches(entity, account_id, share.owning_account_id)
        for (kind, entity), record in _ext(share)["assoc"].items()
    )


def _check_owner(value) -> str:
    if value not in ("SELF", "OTHER-ACCOUNTS"):
        raise _invalid(
            f"{value} is not a valid resource owner. Specify either SELF or OTHER-ACCOUNTS and try "
            "again."
        )
    return value


def _shares_for(backend, owner: str) -> list:
    if owner == "SELF":
        shares = list(backend.resource_shares)
    else:
        shares = _other_accounts_shares(backend.account_id, backend.region_name)
    return sorted(shares, key=lambda s: (unix_time(s.creation_time), s.arn))


def _check_share_arns(arns) -> list:
    arns = _list_of(arns, "resourceShareArns")
    for arn in arns:
        if not isinstance(arn, str) or not _SHARE_ARN_RE.match(arn):
            raise _malformed(
                f"The resource share ARN {arn} is not valid. Verify the ARN and try again."
            )
    return arns


def get_resource_shares(self):
    with _request(self) as (params, backend):
        owner = _check_owner(params.get("resourceOwner"))
        arns = _check_share_arns(params.get("resourceShareArns"))
        status = params.get("resourceShareStatus")
        if status is not None and status not in _SHARE_STATUSES:
            raise _invalid(f"{status} is not a valid resource share status.")
        name = params.get("name")
        tag_filters = params.get("tagFilters") or []
        if not isinstance(tag_filters, list) or not all(
            isinstance(f, dict) and isinstance(f.get("tagKey"), str) and f["tagKey"]
            for f in tag_filters
        ):
            raise _invalid("Every tag filter needs a tagKey.")
        permission_arn = params.get("permissionArn")
        permission_version = params.get("permissionVersion")
        if permission_arn is not None:
            _find_permission(backend, permission_arn)
        _check_version(permission_version)

        def matches(share) -> bool:
            ext = _ext(share)
            if arns and share.arn not in arns:
                return False
            if status is None and share.status == "DELETED":
                return False
            if status is not None and share.status != status:
                return False
            if name is not None and share.name != name:
                return False
            tags = {t["key"]: t["value"] for t in ext["tags"]}
            for f in tag_filters:
                if f["tagKey"] not in tags:
                    return False
                values = f.get("tagValues") or []
                if values and tags[f["tagKey"]] not in values:
                    return False
            if permission_arn is not None and not any(
                p["arn"] == permission_arn for p in ext["permissions"].values()
            ):
                return False
            return True

        shares = [s for s in _shares_for(backend, owner) if matches(s)]
        filters = {k: v for k, v in params.items() if k not in ("nextToken", "maxResults")}
        page, next_token = _page(shares, params, filters)
        return json.dumps(
            _with_token({"resourceShares": [_share_json(s) for s in page]}, next_token)
        )


@_idempotent_change("UpdateResourceShare")
def update_resource_share(params: dict, backend) -> dict:
    share = _own_share(backend, params.get("resourceShareArn"))
    name = params.get("name")
    allow_external = params.get("allowExternalPrincipals")
    if name is not None:
        if not isinstance(name, str) or not name:
            raise _invalid("name must be a non-empty string.")
        share.name = name
    if allow_external is not None:
        if not isinstance(allow_external, bool):
            raise _invalid("allowExternalPrincipals must be a boolean.")
        share.allow_external_principals = allow_external
    _touch(share)
    return {"resourceShare": _share_json(share)}


def delete_resource_share(self):
    backend = self.ram_backend
    params = {}
    for key in ("resourceShareArn", "clientToken"):
        value = self.querystring.get(key)
        if value:
            params[key] = value[0]
    with _lock:

        def delete():
            share = _own_share(backend, params.get("resourceShareArn"))
            now = time.time()
            for record in _ext(share)["assoc"].values():
                if record["status"] != "DISASSOCIATED":
                    record.update(status="DISASSOCIATED", updated=now)
            _sync_moto_lists(share)
            share.delete()
            return {"returnValue": True}

        return _idempotent(backend, "DeleteResourceShare", params, delete)


@_idempotent_change("AssociateResourceShare")
def associate_resource_share(params: dict, backend) -> dict:
    share = _own_share(backend, params.get("resourceShareArn"))
    resources = _check_resources(backend, params.get("resourceArns"))
    principals = _check_principals(params.get("principals"))
    sources = params.get("sources") or []
    if not resources and not principals and not sources:
        raise _invalid("Specify resourceArns, principals or sources.")
    ext = _ext(share)
    for source in sources:
        if source not in ext["sources"]:
            ext["sources"].append(source)
    now = time.time()
    touched = _add_associations(backend, share, resources, principals, now)
    return _changed(share, touched, "ASSOCIATING")


@_idempotent_change("DisassociateResourceShare")
def disassociate_resource_share(params: dict, backend) -> dict:
    share = _own_share(backend, params.get("resourceShareArn"))
    resource_arns = params.get("resourceArns") or []
    principals = params.get("principals") or []
    sources = params.get("sources") or []
    if not isinstance(resource_arns, list) or not isinstance(principals, list):
        raise _invalid("resourceArns and principals must be lists.")
    if not resource_arns and not principals and not sources:
        raise _invalid("Specify resourceArns, principals or sources.")
    ext = _ext(share)
    wanted = [("RESOURCE", a) for a in resource_arns]
    wanted += [("PRINCIPAL", p) for p in principals]
    for kind, entity in wanted:
        record = ext["assoc"].get((kind, entity))
        if record is None or record["status"] == "DISASSOCIATED":
            raise _unknown(
                f"{entity} is not associated with resource share {share.arn}."
            )
    ext["sources"] = [s for s in ext["sources"] if s not in sources]
    now = time.time()
    for key in wanted:
        ext["assoc"][key].update(status="DISASSOCIATED", updated=now)
    _sync_moto_lists(share)
    return _changed(share, wanted, "DISASSOCIATING")


def get_resource_share_associations(self):
    with _request(self) as (params, backend):
        kind = params.get("associationType")
        if kind not in ("PRINCIPAL", "RESOURCE"):
            raise _invalid(
                f"{kind} is not a valid association type. Specify either PRINCIPAL or RESOURCE and "
                "try again."
            )
        status = params.get("associationStatus")
        if status is not None and status not in _ASSOCIATION_STATUSES:
            raise _invalid(f"{status} is not a valid association status.")
        resource_arn = params.get("resourceArn")
        principal = params.get("principal")
        if kind == "PRINCIPAL" and resource_arn:
            raise _invalid(
                "You cannot specify a resource ARN when the association type is PRINCIPAL."
            )
        if kind == "RESOURCE" and principal:
            raise _invalid("You cannot specify a principal when the association type is RESOURCE.")
        arns = _check_share_arns(params.get("resourceShareArns"))
        rows = []
        for share in _shares_for(backend, "SELF"):
            if arns and share.arn not in arns:
                continue
            for (k, entity), record in _ext(share)["assoc"].items():
                if k != kind:
                    continue
                if resource_arn and entity != resource_arn:
                    continue
                if principal and entity != principal:
                    continue
                if status and record["status"] != status:
                    continue
                rows.append(_association_json(share, k, entity, record))
        filters = {k: v for k, v in params.items() if k not in ("nextToken", "maxResults")}
        page, next_token = _page(rows, params, filters)
        return json.dumps(_with_token({"resourceShareAssociations": page}, next_token))


def _visible_share(backend, arn):
    """A share the caller owns, or an ACTIVE share of another account that reaches the caller."""
    if not isinstance(arn, str) or not _SHARE_ARN_RE.match(arn):
        raise _malformed(
            f"The resource share ARN {arn} is not valid. Verify the ARN and try again."
        )
    for share in backend.resource_shares:
        if share.arn == arn:
            return share
    for share in _other_accounts_shares(backend.account_id, backend.region_name):
        if share.arn == arn:
            return share
    raise _share_not_found(arn)


def list_resource_share_permissions(self):
    with _request(self) as (params, backend):
        share = _visible_share(backend, params.get("resourceShareArn"))
        rows = []
        for association in _ext(share)["permissions"].values():
            permission = _find_permission(backend, association["arn"])
            rows.append(_permission_summary(permission, association))
        page, next_token = _page(rows, params, share.arn)
        return json.dumps(_with_token({"permissions": page}, next_token))


@_idempotent_change("AssociateResourceSharePermission")
def associate_resource_share_permission(params: dict, backend) -> dict:
    share = _own_share(backend, params.get("resourceShareArn"))
    permission = _find_permission(backend, params.get("permissionArn"))
    _check_version(params.get("permissionVersion"))
    replace = params.get("replace", False)
    ext = _ext(share)
    key = permission.resource_type.lower()
    current = ext["permissions"].get(key)
    now = time.time()
    if current is not None and current["arn"] != permission.arn and not replace:
        raise _invalid(
            f"Resource share {share.arn} already has a permission for resource type "
            f"{permission.resource_type}; set replace to replace it."
        )
    if current is None or current["arn"] != permission.arn:
        ext["permissions"][key] = {"arn": permission.arn, "created": now, "updated": now}
        _touch(share)
    return {"returnValue": True}


@_idempotent_change("DisassociateResourceSharePermission")
def disassociate_resource_share_permission(params: dict, backend) -> dict:
    share = _own_share(backend, params.get("resourceShareArn"))
    permission = _find_permission(backend, params.get("permissionArn"))
    ext = _ext(share)
    key = permission.resource_type.lower()
    current = ext["permissions"].get(key)
    if current is None or current["arn"] != permission.arn:
        raise _unknown(
            f"Permission {permission.arn} is not associated with resource share "
            f"{share.arn}."
        )
    if any(
        kind == "RESOURCE" and _active(r) and (r["type"] or "").lower() == key
        for (kind, _), r in ext["assoc"].items()
    ):
        raise RamError(
            "OperationNotPermittedException",
            f"Resource share {share.arn} still has resources of type "
            f"{permission.resource_type}; remove them before the permission.",
        )
    del ext["permissions"][key]
    _touch(share)
    return {"returnValue": True}


def get_permission(self):
    with _request(self) as (params, backend):
        permission = _find_permission(backend, params.get("permissionArn"))
        _check_version(params.get("permissionVersion"))
        detail = _permission_summary(permission)
        detail["permission"] = _policy_document(permission)
        return json.dumps({"permission": detail})


def list_permissions(self):
    with _request(self) as (params, backend):
        resource_type = params.get("resourceType")
        permission_type = params.get("permissionType") or "ALL"
        kinds = {
            "ALL": None,
            "AWS": "AWS_MANAGED",
            "AWS_MANAGED": "AWS_MANAGED",
            "LOCAL": "CUSTOMER_MANAGED",
            "CUSTOMER_MANAGED": "CUSTOMER_MANAGED",
        }
        if permission_type not in kinds:
            raise _invalid(
                f"{permission_type} is not a valid scope. Must be one of: ALL, AWS_MANAGED, "
                "CUSTOMER_MANAGED."
            )
        if resource_type is not None and not any(
            p.resource_type.lower() == resource_type.lower() for p in backend.managed_permissions
        ):
            raise _invalid(f"Invalid resource type: {resource_type}")
        status = params.get("permissionStatus")
        owner = params.get("resourceOwner")
        if owner is not None:
            _check_owner(owner)
        rows = []
        for permission in backend.managed_permissions:
            if resource_type and permission.resource_type.lower() != resource_type.lower():
                continue
            if kinds[permission_type] and permission.permission_type != kinds[permission_type]:
                continue
            if status and permission.status != status:
                continue
            if owner == "OTHER-ACCOUNTS":
                continue
            if owner == "SELF" and permission.permission_type == "AWS_MANAGED":
                continue
            rows.append(_permission_summary(permission))
        filters = {k: v for k, v in params.items() if k not in ("nextToken", "maxResults")}
        page, next_token = _page(rows, params, filters)
        return json.dumps(_with_token({"permissions": page}, next_token))


def _taggable_share(backend, params: dict):
    share_arn = params.get("resourceShareArn")
    resource_arn = params.get("resourceArn")
    if bool(share_arn) == bool(resource_arn):
        raise _invalid("Specify either resourceShareArn or resourceArn, but not both.")
    if resource_arn:
        permission = _find_permission(backend, resource_arn)
        if permission.permission_type == "AWS_MANAGED":
            raise RamError(
                "OperationNotPermittedException", "AWS managed permissions cannot be tagged."
            )
        raise _unknown(f"Permission {resource_arn} could not be found.")
    return _own_share(backend, share_arn)


def tag_resource(self):
    with _request(self) as (params, backend):
        share = _taggable_share(backend, params)
        tags = params.get("tags")
        if not isinstance(tags, list) or not tags:
            raise _invalid("tags is required.")
        ext = _ext(share)
        ext["tags"] = _merge_tags(ext["tags"], _check_tags(tags))
        return "{}"


def untag_resource(self):
    with _request(self) as (params, backend):
        share = _taggable_share(backend, params)
        keys = params.get("tagKeys")
        if not isinstance(keys, list):
            raise _invalid("tagKeys is required.")
        ext = _ext(share)
        ext["tags"] = [t for t in ext["tags"] if t["key"] not in keys]
        return "{}"


def _region_scope(resource_type: str) -> str:
    for entry in ram_utils.RAM_RESOURCE_TYPES:
        if entry["resourceType"].lower() == (resource_type or "").lower():
            return entry["resourceRegionScope"]
    return "REGIONAL"


def list_resources(self):
    with _request(self) as (params, backend):
        owner = _check_owner(params.get("resourceOwner"))
        principal = params.get("principal")
        resource_type = params.get("resourceType")
        resource_arns = params.get("resourceArns") or []
        share_arns = _check_share_arns(params.get("resourceShareArns"))
        scope = params.get("resourceRegionScope") or "ALL"
        if scope not in ("ALL", "REGIONAL", "GLOBAL"):
            raise _invalid(f"{scope} is not a valid resource region scope.")
        rows = []
        for share in _shares_for(backend, owner):
            if share.status != "ACTIVE" or (share_arns and share.arn not in share_arns):
                continue
            assoc = _ext(share)["assoc"]
            if principal and not any(
                k == "PRINCIPAL" and e == principal and _active(r) for (k, e), r in assoc.items()
            ):
                continue
            for (kind, arn), record in assoc.items():
                if kind != "RESOURCE" or not _active(record):
                    continue
                if resource_type and (record["type"] or "").lower() != resource_type.lower():
                    continue
                if resource_arns and arn not in resource_arns:
                    continue
                region_scope = _region_scope(record["type"])
                if scope != "ALL" and region_scope != scope:
                    continue
                rows.append(
                    {
                        "arn": arn,
                        "type": record["type"],
                        "resourceShareArn": share.arn,
                        "status": "AVAILABLE",
                        "creationTime": record["created"],
                        "lastUpdatedTime": record["updated"],
                        "resourceRegionScope": region_scope,
                    }
                )
        filters = {k: v for k, v in params.items() if k not in ("nextToken", "maxResults")}
        page, next_token = _page(rows, params, filters)
        return json.dumps(_with_token({"resources": page}, next_token))


def list_principals(self):
    with _request(self) as (params, backend):
        owner = _check_owner(params.get("resourceOwner"))
        resource_arn = params.get("resourceArn")
        principals = params.get("principals") or []
        resource_type = params.get("resourceType")
        share_arns = _check_share_arns(params.get("resourceShareArns"))
        rows = []
        for share in _shares_for(backend, owner):
            if share.status != "ACTIVE" or (share_arns and share.arn not in share_arns):
                continue
            assoc = _ext(share)["assoc"]
            resources = [(e, r) for (k, e), r in assoc.items() if k == "RESOURCE" and _active(r)]
            if resource_arn and not any(e == resource_arn for e, _ in resources):
                continue
            if resource_type and not any(
                (r["type"] or "").lower() == resource_type.lower() for _, r in resources
            ):
                continue
            for (kind, entity), record in assoc.items():
                if kind != "PRINCIPAL" or not _active(record):
                    continue
                if principals and entity not in principals:
                    continue
                if owner == "OTHER-ACCOUNTS" and not _reaches(
                    entity, backend.account_id, share.owning_account_id
                ):
                    continue
                rows.append(
                    {
                        "id": entity,
                        "resourceShareArn": share.arn,
                        "creationTime": record["created"],
                        "lastUpdatedTime": record["updated"],
                        "external": record["external"],
                    }
                )
        filters = {k: v for k, v in params.items() if k not in ("nextToken", "maxResults")}
        page, next_token = _page(rows, params, filters)
        return json.dumps(_with_token({"principals": page}, next_token))


def get_resource_share_invitations(self):
    params = _body(self)
    with _lock:
        _page([], params, None)
        return json.dumps({"resourceShareInvitations": []})


# --- cross-account visibility -----------------------------------------------------------------


def shared_resource_arns(account_id: str, region: str, resource_type=None) -> dict:
    """Resources of other accounts shared with ``account_id`` in ``region``: ARN -> owner."""
    with _lock:
        out = {}
        for share in _other_accounts_shares(account_id, region):
            for (kind, arn), record in _ext(share)["assoc"].items():
                if kind != "RESOURCE" or not _active(record):
                    continue
                if resource_type is not None and record["type"] != resource_type:
                    continue
                out[arn] = share.owning_account_id
        return out


# --- install ----------------------------------------------------------------------------------

_ROUTES = [
    "associateresourceshare",
    "disassociateresourceshare",
    "associateresourcesharepermission",
    "disassociateresourcesharepermission",
    "listresourcesharepermissions",
    "getpermission",
    "tagresource",
    "untagresource",
    "listresources",
    "listprincipals",
    "getresourceshareinvitations",
]


def install() -> None:
    """Extend moto's RAM response class, URL map and managed permission catalogue (idempotent)."""
    cls = ResourceAccessManagerResponse
    if getattr(cls, "_ecs_topology_installed", False):
        return
    cls._ecs_topology_installed = True

    if not any(t["resourceType"] == CLOUD_MAP_TYPE for t in ram_utils.RAM_RESOURCE_TYPES):
        ram_utils.RAM_RESOURCE_TYPES.append(
            {
                "resourceType": CLOUD_MAP_TYPE,
                "serviceName": "servicediscovery",
                "resourceRegionScope": "REGIONAL",
            }
        )
    if not any(p["name"] == CLOUD_MAP_PERMISSION for p in ram_utils.AWS_MANAGED_PERMISSIONS):
        ram_utils.AWS_MANAGED_PERMISSIONS.append(
            ram_utils.format_ram_permission(
                name=CLOUD_MAP_PERMISSION,
                resource_type=CLOUD_MAP_TYPE,
                creation_time="2024-09-18 00:00:00.000000",
                is_resource_type_default=True,
            )
        )

    for route in _ROUTES:
        ram_urls.url_paths.setdefault("{0}/" + route + "$", cls.dispatch)

    common.install_handlers(
        cls,
        create_resource_share,
        get_resource_shares,
        update_resource_share,
        delete_resource_share,
        associate_resource_share,
        disassociate_resource_share,
        get_resource_share_associations,
        list_resource_share_permissions,
        associate_resource_share_permission,
        disassociate_resource_share_permission,
        get_permission,
        list_permissions,
        tag_resource,
        untag_resource,
        list_resources,
        list_principals,
        get_resource_share_invitations,
    )
