"""Cloud Map (``servicediscovery``) as the AWS API reference describes it, on top of moto's backend.

What this adds to stock moto:

- ``CreatorRequestId`` idempotency for ``CreateHttpNamespace`` (and the DNS namespace creates):
  the same token for the same request (same name and type) answers the first ``OperationId`` and
  creates nothing; the same token for a different request fails with ``DuplicateRequest``
  (``DuplicateOperationId`` = the first operation). A token is remembered for
  ``servicediscovery.creator_request_id_ttl`` seconds (default 86400). ``UpdaterRequestId`` of
  ``UpdateHttpNamespace`` works the same way.
- ``NamespaceAlreadyExists`` (HTTP 400, with ``CreatorRequestId`` and ``NamespaceId`` of the
  existing namespace) when the name is taken in the account and region by any namespace type.
- Operations go SUBMITTED -> PENDING (from a third of the delay) -> SUCCESS over the per-account
  setting ``servicediscovery.operation_delay`` seconds (default 0: SUCCESS at once). The change
  takes effect when the operation succeeds: a namespace being created is invisible to
  Get/ListNamespaces until then, one being deleted stays visible, a new description shows then.
  A second ``DeleteNamespace`` while one is in progress fails with ``DuplicateRequest``; other
  changes to a namespace being deleted fail with ``ResourceInUse``.
- ``ListNamespaces``: filters TYPE, NAME, HTTP_NAME (``EQ`` or ``BEGINS_WITH``, one value) and
  RESOURCE_OWNER (``EQ``, ``SELF`` or ``OTHER_ACCOUNTS``); several filters must all match.
  ``MaxResults`` (1-100, default 100) and ``NextToken`` page as AWS documents: Cloud Map takes
  ``MaxResults`` namespaces and then filters them, so a page may be empty while ``NextToken`` is
  still present. Own namespaces come first (oldest first), then shared ones.
- Namespaces shared with the caller through AWS RAM (see ``ram``) are listed with their owner's
  ``ResourceOwner`` and can be read with ``GetNamespace`` by ARN (not by id), as long as an
  ACTIVE resource share of the owner associates both the namespace and a principal that reaches
  the caller. A consumer cannot update, delete or tag them (``AccessDeniedException``).
- ``GetNamespace`` by id or ARN; replies carry ``ResourceOwner``, ``ServiceCount`` and
  ``CreatorRequestId``. ``UpdateHttpNamespace`` answers ``OperationId`` (moto spells it in lower
  case). ``DeleteNamespace`` fails with ``ResourceInUse`` while services remain.
- ``GetOperation`` with ``OwnerAccount``; ``ListOperations`` filters and paging.
- Tag operations answer ``ResourceNotFoundException`` for unknown resources and
  ``TooManyTagsException`` beyond 50 tags.
- ``CreateService`` needs an existing own namespace (id or ARN; ``NamespaceNotFound`` otherwise)
  and a name not yet used in it (``ServiceAlreadyExists``); ``DeleteService`` answers
  ``ServiceNotFound`` and ``ResourceInUse`` (instances remain). Services answer
  ``ResourceOwner``, ``CreatedByAccount`` and ``InstanceCount``.
- Error replies carry the HTTP status and the members that the service model gives them.

For other extensions: ``settle(account, region)`` applies the changes of succeeded operations
before a backend's ``namespaces`` is read directly, and ``resolve_namespace(account, region,
ident)`` finds a namespace as the account reaches it (own by id, name or ARN; shared by ARN).
"""

import contextlib
import heapq
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.servicediscovery import models as sd_models
from moto.servicediscovery.models import servicediscovery_backends
from moto.servicediscovery.responses import ServiceDiscoveryResponse

from .common import (
    ClientTokens,
    backend_state,
    decode_offset_token,
    encode_offset_token,
    fingerprint,
    install_handlers,
    number_setting,
    token_ttl,
)

DELAY_SETTING = "servicediscovery.operation_delay"
TOKEN_TTL_SETTING = "servicediscovery.creator_request_id_ttl"
DEFAULT_TOKEN_TTL = 86400.0
MAX_TAGS = 50
NAMESPACE_RESOURCE_TYPE = "servicediscovery:Namespace"

_ARN_RE = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):servicediscovery:(?P<region>[a-z0-9-]+):"
    r"(?P<account>\d{12}):(?P<kind>namespace|service)/(?P<id>[A-Za-z0-9-]+)$"
)
_HTTP_NAME_RE = re.compile(r"^(?!arn:)[!-~]{1,1024}$")
_NAMESPACE_TYPES = ("HTTP", "DNS_PUBLIC", "DNS_PRIVATE")

# One lock for every extended Cloud Map request: the server is threaded and the handlers read
# and change several objects (and other accounts' backends) together.
_lock = threading.RLock()


class CloudMapError(JsonRESTError):
    """An error reply as the service model shapes it: ``__type``, ``Message``, extra members."""

    def __init__(self, code: str, message: str, status: int = 400, **members):
        super().__init__(code, message)
        self.code = status
        body = {"__type": code, "Message": message}
        body.update({k: v for k, v in members.items() if v is not None})
        self.description = json.dumps(body)


def _invalid(message: str) -> CloudMapError:
    return CloudMapError("InvalidInput", message, 400)


def _namespace_not_found(ident: str) -> CloudMapError:
    return CloudMapError("NamespaceNotFound", f"Namespace not found: {ident}", 404)


# --- per-backend state ------------------------------------------------------------------------

_STATE_ATTR = "_ecs_topology_cloudmap"


class _State:
    """Extension state kept on moto's backend object, so ``/moto-api/reset`` wipes it too."""

    def __init__(self) -> None:
        # (kind, token) -> the operation id the first request with the token answered
        self.tokens = ClientTokens()
        # namespaces whose CREATE_NAMESPACE operation has not succeeded yet
        self.pending: dict = {}
        # namespace id -> id of its DELETE_NAMESPACE operation still in progress
        self.deleting: dict = {}
        # (due, seq, callable): changes applied when their operation succeeds
        self.effects: list = []
        self.seq = itertools.count()


def _state(backend) -> _State:
    return backend_state(backend, _STATE_ATTR, _State)


@contextlib.contextmanager
def _settled(response) -> Iterator[tuple[dict, Any]]:
    """The request's parameters and backend, under the lock, with every change whose operation
    has succeeded by now applied (parameters that cannot be read are refused before the lock)."""
    params = _params(response)
    backend = response.servicediscovery_backend
    with _lock:
        _settle(backend)
        yield params, backend


def _settle(backend) -> None:
    """Apply every change whose operation has succeeded by now."""
    state = _state(backend)
    now = time.time()
    while state.effects and state.effects[0][0] <= now:
        _, _, effect = heapq.heappop(state.effects)
        effect()


def settle(account_id: str, region: str) -> None:
    """Apply the namespace changes whose operations have succeeded by now.

    Other extensions that read ``namespaces`` of a Cloud Map backend directly call this first, so
    that they see what Cloud Map's own API would show.
    """
    with _lock:
        backend = _existing_backend(account_id, region)
        if backend is not None:
            _settle(backend)


def _existing_backend(account_id: str, region: str):
    """The backend of an account and region if it exists; never creates one."""
    per_account = dict.get(servicediscovery_backends, account_id)
    if per_account is None:
        return None
    return dict.get(per_account, region)


def _delay(account_id: str) -> float:
    return max(number_setting(account_id, DELAY_SETTING, 0.0), 0.0)


# --- operations -------------------------------------------------------------------------------


def _operation_status(op) -> str:
    fixed = op.__dict__.get("_fixed_status", "SUCCESS")
    t0 = op.__dict__.get("_t0")
    if t0 is None:
        return fixed
    delay = op.__dict__.get("_delay", 0.0)
    elapsed = time.time() - t0
    if elapsed >= delay:
        return fixed
    if elapsed >= delay / 3:
        return "PENDING"
    return "SUBMITTED"


def _operation_updated(op) -> float:
    t0 = op.__dict__.get("_t0")
    if t0 is None:
        return op.updated
    delay = op.__dict__.get("_delay", 0.0)
    elapsed = time.time() - t0
    if elapsed >= delay:
        return t0 + delay
    if elapsed >= delay / 3:
        return t0 + delay / 3
    return t0


def _set_operation_status(op, value) -> None:
    op.__dict__["_fixed_status"] = value


def _operation_json(op, owner: str) -> dict:
    return {
        "Id": op.id,
        "OwnerAccount": owner,
        "Type": op.operation_type,
        "Status": op.status,
        "CreateDate": op.created,
        "UpdateDate": _operation_updated(op),
        "Targets": dict(op.targets),
    }


def _start_operation(backend, op_type: str, targets: dict, effect) -> str:
    """Record an operation; ``effect`` runs when it succeeds (now, without a delay)."""
    op_id = backend._create_operation(op_type, targets)
    op = backend.operations[op_id]
    delay = _delay(backend.account_id)
    now = time.time()
    op.__dict__["_t0"] = now
    op.__dict__["_delay"] = delay
    op.created = now
    if delay <= 0:
        effect()
    else:
        state = _state(backend)
        heapq.heappush(state.effects, (now + delay, next(state.seq), effect))
    return op_id


# --- helpers ----------------------------------------------------------------------------------


def _params(response) -> dict:
    try:
        params = json.loads(response.body or "{}")
    except ValueError as exc:
        raise CloudMapError("SerializationException", "The request body is not JSON", 400) from exc
    if not isinstance(params, dict):
        raise CloudMapError("SerializationException", "The request body is not an object", 400)
    return params


def _invalid_token() -> CloudMapError:
    return _invalid("The NextToken is not valid for this request.")


def _replay(state: _State, kind: str, token, key: dict, account_id: str, what: str):
    """The operation id of the first request with ``token`` when this is that request again;
    ``DuplicateRequest`` when another request used the token; ``None`` for a new token."""
    if not token:
        return None

    def duplicate(op_id) -> CloudMapError:
        return CloudMapError(
            "DuplicateRequest",
            f"{what} {token} was already used for another request.",
            409,
            DuplicateOperationId=op_id,
        )

    return state.tokens.recall(
        (kind, token),
        fingerprint(key),
        ttl=token_ttl(account_id, TOKEN_TTL_SETTING, DEFAULT_TOKEN_TTL),
        mismatch=duplicate,
    )


def _max_results(params: dict) -> int:
    value = params.get("MaxResults")
    if value is None:
        return 100
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
        raise _invalid("MaxResults must be between 1 and 100.")
    return value


def _shared_namespace_arns(account_id: str, region: str) -> dict:
    """ARNs of namespaces shared with the account in the region -> owner account id."""
    from . import ram

    return ram.shared_resource_arns(account_id, region, NAMESPACE_RESOURCE_TYPE)


def _service_count(backend, namespace_id: str) -> int:
    return sum(1 for s in backend.services.values() if s.namespace_id == namespace_id)


def _namespace_json(backend, ns, summary: bool = False) -> dict:
    properties = {"HttpProperties": {"HttpName": ns.name}}
    if ns.http_properties and ns.http_properties.get("HttpName"):
        properties["HttpProperties"] = {"HttpName": ns.http_properties["HttpName"]}
    dns = {k: v for k, v in (ns.dns_properties or {}).items() if v is not None}
    properties["DnsProperties"] = dns
    out = {
        "Id": ns.id,
        "Arn": ns.arn,
        "ResourceOwner": backend.account_id,
        "Name": ns.name,
        "Type": ns.type,
        "ServiceCount": _service_count(backend, ns.id),
        "Properties": properties,
        "CreateDate": ns.created,
    }
    if ns.description is not None:
        out["Description"] = ns.description
    if not summary and ns.creator_request_id is not None:
        out["CreatorRequestId"] = ns.creator_request_id
    return out


def _parse_arn(value: str):
    return _ARN_RE.match(value or "")


def _resolve_namespace(backend, ident, *, allow_shared: bool, action: str):
    """(owner backend, namespace) for an id or ARN as the caller may use it."""
    if not ident or not isinstance(ident, str):
        raise _invalid("Id is required.")
    if ident.startswith("arn:"):
        match = _parse_arn(ident)
        if not match or match["kind"] != "namespace":
            raise _invalid(f"Invalid namespace ARN: {ident}")
        if match["region"] != backend.region_name:
            raise _namespace_not_found(ident)
        owner = match["account"]
        ns_id = match["id"]
        if owner != backend.account_id:
            shared = _shared_namespace_arns(backend.account_id, backend.region_name)
            owner_backend = _existing_backend(owner, backend.region_name)
            if ident not in shared or owner_backend is None:
                raise _namespace_not_found(ident)
            _settle(owner_backend)
            ns = owner_backend.namespaces.get(ns_id)
            if ns is None or ns.arn != ident:
                raise _namespace_not_found(ident)
            if not allow_shared:
                raise CloudMapError(
                    "AccessDeniedException",
                    f"User: arn:aws:iam::{backend.account_id}:root is not authorized to perform: "
                    f"servicediscovery:{action} on resource: {ident} because no resource-based "
                    "policy allows the servicediscovery:" + action + " action",
                    400,
                )
            return owner_backend, ns
        ns = backend.namespaces.get(ns_id)
        if ns is None or ns.arn != ident:
            raise _namespace_not_found(ident)
        return backend, ns
    ns = backend.namespaces.get(ident)
    if ns is None:
        raise _namespace_not_found(ident)
    return backend, ns


def namespace_owned(account_id: str, region: str, arn: str) -> bool:
    """Whether ``arn`` names an existing (created, not yet deleted) namespace of the account."""
    match = _parse_arn(arn)
    if not match or match["kind"] != "namespace":
        return False
    if match["account"] != account_id or match["region"] != region:
        return False
    with _lock:
        backend = _existing_backend(account_id, region)
        if backend is None:
            return False
        _settle(backend)
        ns = backend.namespaces.get(match["id"])
        return ns is not None and ns.arn == arn


def resolve_namespace(account_id: str, region: str, ident: str):
    """The namespace ``account_id`` reaches by id, name or ARN in ``region``, shared ones included.

    Returns ``(owner account id, namespace)`` or ``None``. For other extensions (e.g. ECS Service
    Connect) that accept a namespace the way AWS does: own namespaces by id, name or ARN, shared
    namespaces by ARN only.
    """
    if not ident:
        return None
    with _lock:
        backend = _existing_backend(account_id, region)
        if backend is not None:
            _settle(backend)
            for ns in list(backend.namespaces.values()):
                if ident in (ns.id, ns.name, ns.arn):
                    return account_id, ns
        match = _parse_arn(ident)
        if match is None or match["kind"] != "namespace" or match["region"] != region:
            return None
        if ident not in _shared_namespace_arns(account_id, region):
            return None
        owner_backend = _existing_backend(match["account"], region)
        if owner_backend is None:
            return None
        _settle(owner_backend)
        ns = owner_backend.namespaces.get(match["id"])
        if ns is None or ns.arn != ident:
            return None
        return match["account"], ns


def _check_tags(tags, resource_name: str) -> list:
    if tags is None:
        return []
    if not isinstance(tags, list):
        raise _invalid("Tags must be a list.")
    for tag in tags:
        if not isinstance(tag, dict) or "Key" not in tag or "Value" not in tag:
            raise _invalid("Each tag needs a Key and a Value.")
        if not 1 <= len(tag["Key"]) <= 128 or len(tag["Value"]) > 256:
            raise _invalid("Tag keys are 1-128 characters, values at most 256.")
    if len({t["Key"] for t in tags}) > MAX_TAGS:
        raise CloudMapError(
            "TooManyTagsException",
            f"The resource can have at most {MAX_TAGS} tags.",
            400,
            ResourceName=resource_name,
        )
    return tags


# --- namespace creation -----------------------------------------------------------------------


def _find_by_name(backend, name: str):
    state = _state(backend)
    for ns in list(backend.namespaces.values()) + list(state.pending.values()):
        if ns.name == name:
            return ns
    return None


def _create_namespace(response, ns_type: str, original) -> str:
    with _settled(response) as (params, backend):
        state = _state(backend)
        name = params.get("Name")
        if not isinstance(name, str) or not _HTTP_NAME_RE.match(name):
            raise _invalid(f"Invalid namespace name: {name!r}")
        if ns_type == "DNS_PRIVATE" and not params.get("Vpc"):
            raise _invalid("Vpc is required.")
        token = params.get("CreatorRequestId")
        if token is not None and (not isinstance(token, str) or len(token) > 64):
            raise _invalid("CreatorRequestId is at most 64 characters.")
        description = params.get("Description")
        if description is not None and len(description) > 1024:
            raise _invalid("Description is at most 1024 characters.")
        key = {"type": ns_type, "name": name}
        first = _replay(state, "CREATE_NAMESPACE", token, key, backend.account_id, "CreatorRequestId")
        if first is not None:
            return json.dumps({"OperationId": first})
        existing = _find_by_name(backend, name)
        if existing is not None:
            raise CloudMapError(
                "NamespaceAlreadyExists",
                f"Namespace {name} already exists.",
                400,
                CreatorRequestId=existing.creator_request_id,
                NamespaceId=existing.id,
            )
        _check_tags(params.get("Tags"), name)

        # moto creates the namespace, its tags and a finished operation; hold the namespace back
        # until the operation succeeds.
        reply = json.loads(original(response))
        op_id = reply["OperationId"]
        op = backend.operations[op_id]
        ns_id = op.targets["NAMESPACE"]
        ns = backend.namespaces.pop(ns_id)
        if ns_type == "HTTP":
            ns.dns_properties = {"SOA": {}}
        del backend.operations[op_id]
        state.pending[ns_id] = ns

        def publish(ns=ns) -> None:
            state.pending.pop(ns.id, None)
            ns.updated = time.time()
            backend.namespaces[ns.id] = ns

        op_id = _start_operation(backend, "CREATE_NAMESPACE", {"NAMESPACE": ns_id}, publish)
        if token:
            state.tokens.remember(("CREATE_NAMESPACE", token), fingerprint(key), op_id)
        return json.dumps({"OperationId": op_id})


def _wrap_create(ns_type: str, original):
    def handler(self):
        return _create_namespace(self, ns_type, original)

    handler.__name__ = original.__name__
    return handler


# --- namespace reads --------------------------------------------------------------------------


def get_namespace(self):
    with _settled(self) as (params, backend):
        owner_backend, ns = _resolve_namespace(
            backend, params.get("Id"), allow_shared=True, action="GetNamespace"
        )
        return json.dumps({"Namespace": _namespace_json(owner_backend, ns)})


def _each_filter(filters, names: tuple[str, ...], *, objects_only: bool) -> Iterator[tuple[Any, Any, Any]]:
    """(name, values, condition) of each of a List call's ``Filters`` in turn, once its name is
    one of ``names`` and its ``Values`` a non-empty list; the condition is EQ when absent. A filter
    that is not an object is refused as such (``objects_only``) or as one without a name."""
    if filters is None:
        return
    if not isinstance(filters, list):
        raise _invalid("Filters must be a list.")
    for f in filters:
        if not isinstance(f, dict):
            if objects_only:
                raise _invalid("Each filter must be an object.")
            f = {}
        name = f.get("Name")
        values = f.get("Values")
        condition = f.get("Condition") or "EQ"
        if name not in names:
            raise _invalid(f"Invalid filter name: {name!r}")
        if not isinstance(values, list) or not values:
            raise _invalid(f"Filter {name} needs Values.")
        yield name, values, condition


def _check_namespace_filters(filters) -> list:
    checked = []
    names = ("TYPE", "NAME", "HTTP_NAME", "RESOURCE_OWNER")
    for name, values, condition in _each_filter(filters, names, objects_only=True):
        if condition not in ("EQ", "IN", "BETWEEN", "BEGINS_WITH"):
            raise _invalid(f"Invalid filter condition: {condition!r}")
        if name == "RESOURCE_OWNER":
            if condition != "EQ":
                raise _invalid("RESOURCE_OWNER supports only the EQ condition.")
        elif condition not in ("EQ", "BEGINS_WITH"):
            raise _invalid(f"{name} supports only the EQ and BEGINS_WITH conditions.")
        if len(values) != 1:
            raise _invalid(f"Condition {condition} takes exactly one value.")
        value = values[0]
        if not isinstance(value, str) or not 1 <= len(value) <= 255:
            raise _invalid("Filter values are 1-255 characters.")
        if name == "RESOURCE_OWNER" and value not in ("SELF", "OTHER_ACCOUNTS"):
            raise _invalid("RESOURCE_OWNER takes SELF or OTHER_ACCOUNTS.")
        if name == "TYPE" and condition == "EQ" and value not in _NAMESPACE_TYPES:
            raise _invalid("TYPE takes HTTP, DNS_PUBLIC or DNS_PRIVATE.")
        checked.append((name, condition, value))
    return checked


def _namespace_matches(ns, own: bool, filters: list) -> bool:
    for name, condition, value in filters:
        if name == "RESOURCE_OWNER":
            if (value == "SELF") != own:
                return False
            continue
        if name == "TYPE":
            actual = ns.type
        elif name == "NAME":
            actual = ns.name
        else:
            actual = (ns.http_properties or {}).get("HttpName") or ns.name
        if condition == "EQ" and actual != value:
            return False
        if condition == "BEGINS_WITH" and not actual.startswith(value):
            return False
    return True


def _visible_namespaces(backend) -> list:
    """(owner backend, namespace) for own namespaces, then namespaces shared with the caller."""
    own = sorted(backend.namespaces.values(), key=lambda n: (n.created, n.id))
    out = [(backend, ns) for ns in own]
    shared = []
    for arn, owner in _shared_namespace_arns(backend.account_id, backend.region_name).items():
        owner_backend = _existing_backend(owner, backend.region_name)
        match = _parse_arn(arn)
        if owner_backend is None or match is None:
            continue
        _settle(owner_backend)
        ns = owner_backend.namespaces.get(match["id"])
        if ns is not None and ns.arn == arn:
            shared.append((owner_backend, ns))
    shared.sort(key=lambda item: (item[0].account_id, item[1].created, item[1].id))
    return out + shared


def list_namespaces(self):
    with _settled(self) as (params, backend):
        filters = _check_namespace_filters(params.get("Filters"))
        limit = _max_results(params)
        offset = decode_offset_token(params.get("NextToken"), filters, _invalid_token)
        universe = _visible_namespaces(backend)
        window = universe[offset : offset + limit]
        page = [
            _namespace_json(owner_backend, ns, summary=True)
            for owner_backend, ns in window
            if _namespace_matches(ns, owner_backend is backend, filters)
        ]
        reply = {"Namespaces": page}
        if offset + limit < len(universe):
            reply["NextToken"] = encode_offset_token(offset + limit, filters)
        return json.dumps(reply)


# --- namespace changes ------------------------------------------------------------------------


def update_http_namespace(self):
    with _settled(self) as (params, backend):
        state = _state(backend)
        change = params.get("Namespace")
        if not isinstance(change, dict) or not isinstance(change.get("Description"), str):
            raise _invalid("Namespace.Description is required.")
        description = change["Description"]
        if len(description) > 1024:
            raise _invalid("Description is at most 1024 characters.")
        _, ns = _resolve_namespace(
            backend, params.get("Id"), allow_shared=False, action="UpdateHttpNamespace"
        )
        if ns.type != "HTTP":
            raise _invalid(f"Namespace {ns.id} is not an HTTP namespace.")
        token = params.get("UpdaterRequestId")
        key = {"namespace": ns.id, "description": description}
        first = _replay(state, "UPDATE_NAMESPACE", token, key, backend.account_id, "UpdaterRequestId")
        if first is not None:
            return json.dumps({"OperationId": first})
        if ns.id in state.deleting:
            raise CloudMapError("ResourceInUse", f"Namespace {ns.id} is being deleted.", 409)

        def apply(ns=ns, description=description) -> None:
            ns.description = description
            ns.updated = time.time()

        op_id = _start_operation(backend, "UPDATE_NAMESPACE", {"NAMESPACE": ns.id}, apply)
        if token:
            state.tokens.remember(("UPDATE_NAMESPACE", token), fingerprint(key), op_id)
        return json.dumps({"OperationId": op_id})


def delete_namespace(self):
    with _settled(self) as (params, backend):
        state = _state(backend)
        _, ns = _resolve_namespace(
            backend, params.get("Id"), allow_shared=False, action="DeleteNamespace"
        )
        if ns.id in state.deleting:
            raise CloudMapError(
                "DuplicateRequest",
                f"Namespace {ns.id} is already being deleted.",
                409,
                DuplicateOperationId=state.deleting[ns.id],
            )
        if _service_count(backend, ns.id):
            raise CloudMapError(
                "ResourceInUse",
                f"Namespace {ns.id} still contains services; delete them first.",
                409,
            )

        def remove(ns=ns) -> None:
            backend.namespaces.pop(ns.id, None)
            state.deleting.pop(ns.id, None)
            backend.tagger.delete_all_tags_for_resource(ns.arn)

        op_id = _start_operation(backend, "DELETE_NAMESPACE", {"NAMESPACE": ns.id}, remove)
        if ns.id in backend.namespaces:
            state.deleting[ns.id] = op_id
        return json.dumps({"OperationId": op_id})


# --- operations API ---------------------------------------------------------------------------


def get_operation(self):
    with _settled(self) as (params, backend):
        op_id = params.get("OperationId")
        if not op_id:
            raise _invalid("OperationId is required.")
        owner = params.get("OwnerAccount") or backend.account_id
        source = backend
        if owner != backend.account_id:
            source = _existing_backend(owner, backend.region_name)
        op = source.operations.get(op_id) if source is not None else None
        if op is not None and source is not backend:
            # Another account's operation is visible only for a namespace shared with the caller.
            ns_id = op.targets.get("NAMESPACE")
            arns = _shared_namespace_arns(backend.account_id, backend.region_name)
            if not any(arn.endswith(f":namespace/{ns_id}") for arn in arns):
                op = None
        if op is None:
            raise CloudMapError("OperationNotFound", f"Operation not found: {op_id}", 404)
        return json.dumps({"Operation": _operation_json(op, source.account_id)})


def _check_operation_filters(filters) -> list:
    checked = []
    names = ("NAMESPACE_ID", "SERVICE_ID", "STATUS", "TYPE", "UPDATE_DATE")
    for name, values, condition in _each_filter(filters, names, objects_only=False):
        allowed = {
            "NAMESPACE_ID": ("EQ",),
            "SERVICE_ID": ("EQ",),
            "STATUS": ("EQ", "IN"),
            "TYPE": ("EQ", "IN"),
            "UPDATE_DATE": ("BETWEEN",),
        }[name]
        if condition not in allowed:
            raise _invalid(f"{name} does not support the {condition} condition.")
        if condition == "EQ" and len(values) != 1:
            raise _invalid("EQ takes exactly one value.")
        if condition == "BETWEEN":
            if len(values) != 2:
                raise _invalid("BETWEEN takes a start and an end date.")
            try:
                values = [float(v) for v in values]
            except ValueError as exc:
                raise _invalid("UPDATE_DATE values are Unix times.") from exc
        checked.append((name, condition, values))
    return checked


def _operation_matches(op, filters: list) -> bool:
    for name, condition, values in filters:
        if name == "NAMESPACE_ID":
            if op.targets.get("NAMESPACE") != values[0]:
                return False
        elif name == "SERVICE_ID":
            if op.targets.get("SERVICE") != values[0]:
                return False
        elif name == "STATUS":
            wanted = {"SUCCEED" if v == "SUCCESS" else v for v in values}
            status = op.status
            alias = "SUCCEED" if status == "SUCCESS" else status
            if status not in values and alias not in wanted:
                return False
        elif name == "TYPE":
            if op.operation_type not in values:
                return False
        elif name == "UPDATE_DATE":
            if not values[0] <= _operation_updated(op) <= values[1]:
                return False
    return True


def list_operations(self):
    with _settled(self) as (params, backend):
        filters = _check_operation_filters(params.get("Filters"))
        limit = _max_results(params)
        request = [[n, c, v] for n, c, v in filters]
        offset = decode_offset_token(params.get("NextToken"), request, _invalid_token)
        universe = sorted(backend.operations.values(), key=lambda o: (o.created, o.id))
        window = universe[offset : offset + limit]
        page = [{"Id": o.id, "Status": o.status} for o in window if _operation_matches(o, filters)]
        reply = {"Operations": page}
        if offset + limit < len(universe):
            reply["NextToken"] = encode_offset_token(offset + limit, request)
        return json.dumps(reply)


# --- tags -------------------------------------------------------------------------------------


def _taggable(backend, arn) -> str:
    match = _parse_arn(arn) if isinstance(arn, str) else None
    if match is None:
        raise CloudMapError("ResourceNotFoundException", f"Resource not found: {arn}", 404)
    if match["account"] == backend.account_id and match["region"] == backend.region_name:
        if match["kind"] == "namespace":
            ns = backend.namespaces.get(match["id"])
            if ns is not None and ns.arn == arn:
                return arn
        else:
            service = backend.services.get(match["id"])
            if service is not None and service.arn == arn:
                return arn
    elif arn in _shared_namespace_arns(backend.account_id, backend.region_name):
        raise CloudMapError(
            "AccessDeniedException",
            f"User: arn:aws:iam::{backend.account_id}:root is not authorized to manage the tags "
            f"of {arn}",
            400,
        )
    raise CloudMapError("ResourceNotFoundException", f"Resource not found: {arn}", 404)


def _required_list(params: dict, name: str) -> list:
    """The list ``name`` of the request; refused when it is absent or not a list."""
    value = params.get(name)
    if not isinstance(value, list):
        raise _invalid(f"{name} is required.")
    return value


def tag_resource(self):
    with _settled(self) as (params, backend):
        arn = _taggable(backend, params.get("ResourceARN"))
        tags = _required_list(params, "Tags")
        _check_tags(tags, arn)
        current = {t["Key"] for t in backend.tagger.list_tags_for_resource(arn)["Tags"]}
        if len(current | {t["Key"] for t in tags}) > MAX_TAGS:
            raise CloudMapError(
                "TooManyTagsException",
                f"The resource can have at most {MAX_TAGS} tags.",
                400,
                ResourceName=arn,
            )
        backend.tagger.tag_resource(arn, tags)
        return "{}"


def untag_resource(self):
    with _settled(self) as (params, backend):
        arn = _taggable(backend, params.get("ResourceARN"))
        keys = _required_list(params, "TagKeys")
        backend.tagger.untag_resource_using_names(arn, keys)
        return "{}"


def list_tags_for_resource(self):
    with _settled(self) as (params, backend):
        arn = _taggable(backend, params.get("ResourceARN"))
        return json.dumps(backend.tagger.list_tags_for_resource(arn))


# --- services ---------------------------------------------------------------------------------


def _wrap_create_service(original):
    def create_service(self):
        with _settled(self) as (params, backend):
            ident = params.get("NamespaceId") or (params.get("DnsConfig") or {}).get("NamespaceId")
            if not ident:
                raise _invalid("NamespaceId is required.")
            owner_backend, ns = _resolve_namespace(
                backend, ident, allow_shared=False, action="CreateService"
            )
            if ns.id in _state(backend).deleting:
                raise CloudMapError("ResourceInUse", f"Namespace {ns.id} is being deleted.", 409)
            name = params.get("Name")
            for service in backend.services.values():
                if service.namespace_id == ns.id and service.name == name:
                    raise CloudMapError(
                        "ServiceAlreadyExists",
                        f"Service {name} already exists in namespace {ns.id}.",
                        400,
                        CreatorRequestId=service.creator_request_id,
                        ServiceId=service.id,
                        ServiceArn=service.arn,
                    )
            params["NamespaceId"] = ns.id
            self.body = json.dumps(params)
            return original(self)

    return create_service


def _wrap_delete_service(original):
    def delete_service(self):
        params = _params(self)
        backend = self.servicediscovery_backend
        with _lock:
            service = backend.services.get(params.get("Id"))
            if service is None:
                raise CloudMapError(
                    "ServiceNotFound", f"Service not found: {params.get('Id')}", 404
                )
            if service.instances:
                raise CloudMapError(
                    "ResourceInUse", f"Service {service.id} still has registered instances.", 409
                )
            return original(self)

    return delete_service


def _service_to_json(original):
    def to_json(self):
        out = {k: v for k, v in original(self).items() if v is not None}
        out["ResourceOwner"] = self.account_id
        out["CreatedByAccount"] = self.account_id
        out["InstanceCount"] = len(self.instances)
        return out

    return to_json


# --- install ----------------------------------------------------------------------------------


def install() -> None:
    """Patch moto's Cloud Map response class and models (idempotent)."""
    cls = ServiceDiscoveryResponse
    if getattr(cls, "_ecs_topology_installed", False):
        return
    cls._ecs_topology_installed = True

    sd_models.Operation.status = property(_operation_status, _set_operation_status)
    sd_models.Service.to_json = _service_to_json(sd_models.Service.to_json)

    cls.create_http_namespace = _wrap_create("HTTP", cls.create_http_namespace)
    cls.create_private_dns_namespace = _wrap_create(
        "DNS_PRIVATE", cls.create_private_dns_namespace
    )
    cls.create_public_dns_namespace = _wrap_create("DNS_PUBLIC", cls.create_public_dns_namespace)
    install_handlers(
        cls,
        get_namespace,
        list_namespaces,
        update_http_namespace,
        delete_namespace,
        get_operation,
        list_operations,
        tag_resource,
        untag_resource,
        list_tags_for_resource,
    )
    cls.create_service = _wrap_create_service(cls.create_service)
    cls.delete_service = _wrap_delete_service(cls.delete_service)
