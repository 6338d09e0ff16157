"""CloudTrail management events of mutating calls, published to the caller's default event bus.

On AWS, every call that changes something is a CloudTrail management event, and CloudTrail puts
it on the default EventBridge bus of the account and region where the call was made, as an
event with ``detail-type: "AWS API Call via CloudTrail"`` and ``source: "aws.<service>"``, best
effort and after a delay of its own. The realism middleware calls ``publish`` after each
successful (2xx) call to Cloud Map, RAM, EC2 or ECS that is not read-only (not ``Describe*``,
``List*``, ``Get*``, ``BatchGet*``, ``Discover*``); reads publish nothing, as CloudTrail sends
only write events to EventBridge unless asked otherwise.

The event (EventBridge's envelope, then CloudTrail's record as ``detail``)::

    {"version": "0", "id": UUID, "detail-type": "AWS API Call via CloudTrail",
     "source": "aws.servicediscovery", "account": ACCOUNT, "time": "2026-12-02T01:40:00Z",
     "region": REGION, "resources": [],
     "detail": {"eventVersion": "1.11", "userIdentity": {...},
                "eventTime": "2026-12-02T01:40:00Z", "eventSource": "servicediscovery.amazonaws.com",
                "eventName": "UpdateHttpNamespace", "awsRegion": REGION,
                "sourceIPAddress": "127.0.0.1", "userAgent": "...",
                "requestParameters": {...}, "responseElements": {...} | null,
                "requestID": "...", "eventID": UUID, "readOnly": false,
                "eventType": "AwsApiCall", "managementEvent": true,
                "recipientAccountId": ACCOUNT, "eventCategory": "Management"}}

- ``userIdentity``: for credentials issued by ``sts:AssumeRole``, ``{"type": "AssumedRole",
  "principalId": "AROA...:<session>", "arn": "arn:aws:sts::<account>:assumed-role/<role>/<session>",
  "accountId", "accessKeyId", "sessionContext": {"sessionIssuer": {"type": "Role", "principalId",
  "arn": "arn:aws:iam::<account>:role/<role>", "accountId", "userName": "<role>"},
  "webIdFederationData": {}, "attributes": {"creationDate", "mfaAuthenticated": "false"}}}``;
  for an IAM user's key ``{"type": "IAMUser", "principalId", "arn", "accountId", "accessKeyId",
  "userName"}``; otherwise (a key moto did not issue, the ``x-moto-account-id`` header) the
  account's root, ``{"type": "Root", "principalId": <account>, "arn": "arn:aws:iam::<account>:root",
  "accountId", "accessKeyId"}``.
- ``requestParameters``: the request's parameters as CloudTrail spells them: JSON services
  (Cloud Map, ECS; RAM with its query-string parameters merged in) with every structure member
  in lower camel case (``Id`` -> ``id``, ``Namespace.Description`` ->
  ``namespace.description``), following botocore's model so that map keys (attributes, tag
  maps) stay as sent; EC2 (a query protocol) as CloudTrail records it: the VPC endpoint
  operations wrapped in ``{"<Operation>Request": {...}}`` with the wire names and each numbered
  member as ``{"tag": N, "content": VALUE}`` (or its fields with ``"tag": N``), the older
  operations (peering, routes, tags) with lower camel keys and numbered members as
  ``{"items": [...]}``.
- ``responseElements``: the reply shaped the same way (EC2's XML read into the same form,
  ``<item>`` lists as ``{"items": [...]}``, ``return`` as ``_return``, ``true``/``false`` as
  booleans); ``null`` when the reply is empty.
- ``requestID``: the reply's request id (header ``x-amzn-RequestId`` or EC2's ``requestId``).

Settings (per account, the calling account's, see ``settings``):

- ``events.delivery_delay``: seconds between the call and the event reaching the bus (default
  0: delivered before the reply leaves, which tests rely on). A reset of the emulator drops the
  events still waiting.
- ``events.drop_fraction``: the fraction (0..1) of events silently dropped (default 0).

An account whose default bus in the region has no rule pays nothing: the middleware asks
``eventbridge.listening`` before it keeps the request and the reply for ``publish``.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs

from . import eventbridge
from .common import number_setting

DETAIL_TYPE = "AWS API Call via CloudTrail"
EVENT_VERSION = "1.11"
DELAY_SETTING = "events.delivery_delay"
DROP_SETTING = "events.drop_fraction"

# Services whose management events are published: signing name -> CloudTrail event source.
EVENT_SOURCES = {
    "servicediscovery": "servicediscovery.amazonaws.com",
    "ram": "ram.amazonaws.com",
    "ec2": "ec2.amazonaws.com",
    "ecs": "ecs.amazonaws.com",
}
READ_ONLY_PREFIXES = ("Describe", "List", "Get", "BatchGet", "Discover")
# EC2 operations CloudTrail records in the wrapped ``{"<Operation>Request": ...}`` form.
EC2_WRAPPED = {"CreateVpcEndpoint", "ModifyVpcEndpoint", "DeleteVpcEndpoints"}

_generation = 0
_generation_lock = threading.Lock()
_rng = random.Random()


def recorded(service: str, operation: str) -> bool:
    """Whether a successful call of ``operation`` on ``service`` is published."""
    return service in EVENT_SOURCES and not operation.startswith(READ_ONLY_PREFIXES)


def reset() -> None:
    """Forget the events still waiting for their delivery delay."""
    global _generation
    with _generation_lock:
        _generation += 1


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


# --- who called ------------------------------------------------------------------------------


def user_identity(account: str, access_key: str | None, region: str) -> dict[str, Any]:
    """CloudTrail's ``userIdentity`` of a call made with ``access_key`` in ``account``."""
    from moto.sts.models import sts_backends
    from moto.utilities.utils import get_partition

    partition = get_partition(region)
    if access_key:
        per_account = dict.get(sts_backends, account)
        backend = dict.get(per_account, partition) if per_account is not None else None
        for role in list(getattr(backend, "assumed_roles", []) or []):
            if role.access_key_id != access_key:
                continue
            role_name = role.role_arn.split("/")[-1]
            role_id = "AROA" + uuid.uuid5(uuid.NAMESPACE_URL, role.role_arn).hex[:17].upper()
            created = getattr(role.access_key, "create_date", None)
            return {
                "type": "AssumedRole",
                "principalId": f"{role_id}:{role.session_name}",
                "arn": role.arn,
                "accountId": account,
                "accessKeyId": access_key,
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": role_id,
                        "arn": role.role_arn,
                        "accountId": account,
                        "userName": role_name,
                    },
                    "webIdFederationData": {},
                    "attributes": {
                        "creationDate": created.strftime("%Y-%m-%dT%H:%M:%SZ") if created else _now(),
                        "mfaAuthenticated": "false",
                    },
                },
            }
        from moto.iam.models import iam_backends

        per_account = dict.get(iam_backends, account)
        iam = dict.get(per_account, partition) if per_account is not None else None
        key = iam.access_keys.get(access_key) if iam is not None else None
        user_name = getattr(key, "user_name", None) if key is not None else None
        if user_name and not getattr(key, "role_arn", None):
            user = iam.users.get(user_name)
            return {
                "type": "IAMUser",
                "principalId": getattr(user, "id", user_name),
                "arn": f"arn:{partition}:iam::{account}:user/{user_name}",
                "accountId": account,
                "accessKeyId": access_key,
                "userName": user_name,
            }
    return {
        "type": "Root",
        "principalId": account,
        "arn": f"arn:{partition}:iam::{account}:root",
        "accountId": account,
        "accessKeyId": access_key or "",
    }


# --- JSON services ---------------------------------------------------------------------------


def _shaped(value: Any, shape: Any) -> Any:
    """``value`` with the member names of its structures in lower camel case."""
    kind = getattr(shape, "type_name", None)
    if isinstance(value, dict):
        if kind == "map":
            return {k: _shaped(v, getattr(shape, "value", None)) for k, v in value.items()}
        members = getattr(shape, "members", {}) if kind == "structure" else {}
        return {_lower_first(k): _shaped(v, members.get(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_shaped(v, getattr(shape, "member", None)) for v in value]
    return value


def _operation_model(service: str, operation: str) -> Any:
    try:
        from moto.core.utils import get_service_model

        return get_service_model(service).operation_model(operation)
    except Exception:  # noqa: BLE001 - without a model the names are lowered all the same
        return None


def _json(data: bytes) -> Any:
    try:
        value = json.loads(data or b"null")
    except ValueError:
        return None
    return value


# --- EC2 ---------------------------------------------------------------------------------------


def _nest(form: dict[str, str]) -> dict[str, Any]:
    """``A.1.B=x`` query parameters as ``{"A": {"1": {"B": "x"}}}`` (``true``/``false`` as
    booleans)."""
    tree: dict[str, Any] = {}
    for name, value in form.items():
        node = tree
        parts = name.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = {"true": True, "false": False}.get(value, value)
    return tree


def _numbered(node: dict[str, Any]) -> bool:
    return bool(node) and all(k.isdigit() for k in node)


def _wrapped(node: Any) -> Any:
    """CloudTrail's newer EC2 form: wire names, numbered members tagged with their number."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if isinstance(value, dict) and _numbered(value):
            items = []
            for number in sorted(value, key=int):
                item = _wrapped(value[number])
                if isinstance(item, dict):
                    items.append({**item, "tag": int(number)})
                else:
                    items.append({"tag": int(number), "content": item})
            out[key] = items[0] if len(items) == 1 else items
        else:
            out[key] = _wrapped(value)
    return out


def _classic(node: Any) -> Any:
    """CloudTrail's older EC2 form: lower camel names, numbered members as ``{"items": [...]}``."""
    if not isinstance(node, dict):
        return node
    if _numbered(node):
        return {"items": [_classic(node[n]) for n in sorted(node, key=int)]}
    return {_lower_first(k): _classic(v) for k, v in node.items()}


def _ec2_request(operation: str, form: dict[str, str]) -> dict[str, Any] | None:
    params = {k: v for k, v in form.items() if k not in ("Action", "Version")}
    if not params:
        return None
    tree = _nest(params)
    if operation in EC2_WRAPPED:
        return {f"{operation}Request": _wrapped(tree)}
    return _classic(tree)


def _xml_value(element: ElementTree.Element) -> Any:
    children = list(element)
    if not children:
        text = (element.text or "").strip()
        return {"true": True, "false": False}.get(text, text)
    if all(_local(c.tag) == "item" for c in children):
        return {"items": [_xml_value(c) for c in children]}
    out: dict[str, Any] = {}
    for child in children:
        name = _local(child.tag)
        out["_return" if name == "return" else name] = _xml_value(child)
    return out


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _ec2_response(data: bytes) -> dict[str, Any] | None:
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return None
    value = _xml_value(root)
    return value if isinstance(value, dict) and value else None


# --- the event -------------------------------------------------------------------------------


def _form(environ: dict, body: bytes) -> dict[str, str]:
    values = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    content_type = environ.get("CONTENT_TYPE", "") or ""
    if content_type.startswith("application/x-www-form-urlencoded"):
        values.update(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))
    return {k: v[0] for k, v in values.items()}


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name.lower():
            return value
    return None


def parameters(
    service: str, operation: str, environ: dict, body: bytes, reply: bytes
) -> tuple[Any, Any]:
    """(requestParameters, responseElements) of a call, as CloudTrail records them."""
    if service == "ec2":
        return _ec2_request(operation, _form(environ, body)), _ec2_response(reply)
    model = _operation_model(service, operation)
    request = _json(body)
    if not isinstance(request, dict):
        request = {}
    if service == "ram":
        # RAM's deletes and disassociations carry their parameters in the query string.
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        request.update({k: v[0] for k, v in query.items()})
    response = _json(reply)
    request_parameters = _shaped(request, getattr(model, "input_shape", None)) if request else None
    response_elements = (
        _shaped(response, getattr(model, "output_shape", None)) if isinstance(response, dict) and response else None
    )
    return request_parameters, response_elements


@dataclass(frozen=True)
class Call:
    """A call as the middleware saw it: who made it where, the request and the reply."""

    account: str
    region: str
    service: str
    operation: str
    environ: dict
    access_key: str | None
    body: bytes
    headers: list[tuple[str, str]]
    reply: bytes


def event(call: Call) -> dict[str, Any]:
    """The EventBridge event of a successful call."""
    account, region, service, environ = call.account, call.region, call.service, call.environ
    request_parameters, response_elements = parameters(service, call.operation, environ, call.body, call.reply)
    request_id = _header(call.headers, "x-amzn-RequestId") or _header(call.headers, "x-amz-request-id")
    if not request_id and isinstance(response_elements, dict):
        request_id = response_elements.get("requestId")
    now = _now()
    detail = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": user_identity(account, call.access_key, region),
        "eventTime": now,
        "eventSource": EVENT_SOURCES[service],
        "eventName": call.operation,
        "awsRegion": region,
        "sourceIPAddress": environ.get("REMOTE_ADDR") or "127.0.0.1",
        "userAgent": environ.get("HTTP_USER_AGENT") or "",
        "requestParameters": request_parameters,
        "responseElements": response_elements,
        "requestID": request_id or str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": f"aws.{service}",
        "account": account,
        "time": now,
        "region": region,
        "resources": [],
        "detail": detail,
    }


def _fraction(account: str) -> float:
    return min(max(number_setting(account, DROP_SETTING, 0.0), 0.0), 1.0)


def _delay(account: str) -> float:
    return max(number_setting(account, DELAY_SETTING, 0.0), 0.0)


def publish(call: Call, status: str) -> None:
    """Publish the event of a call that answered ``status`` (nothing unless 2xx), after the
    account's delivery delay, unless it is drawn to be dropped. Never raises."""
    try:
        if not status.startswith("2") or not recorded(call.service, call.operation):
            return
        fraction = _fraction(call.account)
        if fraction and _rng.random() < fraction:
            return
        built = event(call)
        delay = _delay(call.account)
        if delay <= 0:
            eventbridge.deliver(built)
            return
        with _generation_lock:
            generation = _generation

        def later() -> None:
            with _generation_lock:
                if generation != _generation:
                    return
            try:
                eventbridge.deliver(built)
            except Exception:  # noqa: BLE001 - best effort, as on AWS
                pass

        timer = threading.Timer(delay, later)
        timer.daemon = True
        timer.start()
    except Exception:  # noqa: BLE001 - an event never breaks the call it records
        return
