"""Realism for the emulator: call counting, AWS-like throttling, latency and injected faults.

``wrap(app)`` puts a WSGI middleware in front of moto's server application. For every AWS request
it works out who is calling what (account, region, service, operation), counts the call, and
applies the realism profile of the calling account before moto sees the request:

* throttling: token buckets per (account, region, API family) with AWS's published burst and
  refill rates (see ``FAMILIES``); a throttled call is answered with the error code, body format
  and HTTP status AWS uses for that protocol, so SDKs classify it as throttling;
* latency: a fixed delay plus uniform jitter per call;
* faults, each drawn at its own rate: HTTP 500 ``InternalError``, HTTP 503 ``ServiceUnavailable``
  (both in the protocol's error format), a connection closed without a reply before the call
  is processed (``reset``) or after moto processed it (``reset_after``, the reply is lost), a
  reply delayed by ``slow_ms``, and a call that is never answered (``hang``: the connection is
  accepted and the request read, moto never sees it, and no reply comes; the emulator lets go
  when the client closes the connection, or after ``hang_ms``, when it resets the connection, so
  that no test waits for ever). ``operations`` limits the faults to some operations.

A profile is set per account (or ``"*"`` for every account without its own) through the admin
endpoints below; without one a call passes straight to moto, only counted.

Admin endpoints (never counted, never throttled):

``GET /_emulator/health``
    ``{"status": "ok"}``
``GET /_emulator/calls``
    ``{"calls": [{"account", "region", "service", "operation", "calls", "throttled",
    "faulted", "continued", "continuedFaulted"}, ...]}``; ``calls`` includes the throttled and
    faulted ones; ``continued`` counts the calls that asked for a page after the first (a
    non-empty ``continuation-token``, ``marker``, ``key-marker`` or ``NextToken``), and
    ``continuedFaulted`` those of them that were faulted.
``POST /_emulator/profile``
    ``{"accounts": ["111122223333"] | "*", "profile": PROFILE | null}``; a null or empty profile
    removes the profile. The token buckets of the named accounts (all, for ``"*"``) start full
    again. ``GET`` returns the profiles in force.
``POST /_emulator/settings``
    ``{"accounts": [...] | "*", "settings": {name: value}}`` -> ``settings.update``; ``GET``
    returns every setting.

PROFILE::

    {
      "throttle": true | false | {"scale": 1.0, "families": {"ec2:vpc-endpoint-mutations": {"burst": 2, "refill": 0.5}}},
      "latency_ms": {"fixed": 0, "jitter": 0},
      "faults": {"http500": 0.0, "http503": 0.0, "reset": 0.0, "reset_after": 0.0,
                 "slow": 0.0, "slow_ms": 2000, "hang": 0.0, "hang_ms": 60000,
                 "operations": ["CreateHttpNamespace", "s3:ListObjectsV2"]},
      "seed": 7
    }

``scale`` multiplies every burst and refill rate (a burst never drops below one call);
``families`` overrides single families (unscaled), named as ``family_of`` names them:
``ec2:<Operation>`` (every EC2 API has its own bucket, except ``ec2:mutating``: the VPC peering
and route changes, Create/Accept/Reject/Delete of peerings, ModifyVpcPeeringConnectionOptions,
Create/Replace/DeleteRoute, which share one), ``ecs:service-reads``
(DescribeServices + ListServices), ``ecs:service-changes`` (Create/Update/DeleteService),
``s3:reads``, ``s3:writes``, ``dynamodb:items``, else ``<service>:<Operation>`` with the
service's signing name (``ecs:ListTagsForResource``, ``servicediscovery:ListNamespaces``,
``ram:GetResourceShares``, ``sts:AssumeRole``, ...). Fault rates are
probabilities per call (they add up to at most 1); ``faulted`` counts every injected fault,
slow replies and hung calls included (a hung call is counted when it starts hanging).
``operations``, when given, names the operations faults are drawn for, as ``Operation`` or
``service:Operation`` (the signing name, as in ``family_of``); other operations are never
faulted (throttling and latency still apply to every call). With a ``seed`` each account draws its jitter and faults from its own
generator seeded with it, so a run is repeatable whatever other accounts do.

``POST /moto-api/reset`` also wipes the settings, the profiles and the token buckets; the call
counts stay, since tests use fresh accounts and compare counts.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import select
import socket
import threading
import time
import uuid
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

from . import cloudtrail, eventbridge, settings

ADMIN_PREFIX = "/_emulator/"

# ---------------------------------------------------------------------------------------------
# Who is calling what


_CREDENTIAL_SCOPE = re.compile(r"Credential=([^,\s]+)")
# The access key exactly as moto's BaseResponse.access_key_regex finds it.
try:  # pragma: no cover - depends on the installed moto
    from moto.core.responses import BaseResponse as _BaseResponse

    _ACCESS_KEY = _BaseResponse.access_key_regex
except Exception:  # pragma: no cover
    _ACCESS_KEY = re.compile(
        r"AWS.*(?P<access_key>(?<![A-Z0-9])[A-Z0-9]{20}(?![A-Z0-9]))[:/]"
    )
_RPC_V2_PATH = re.compile(r"^/service/[^/]+/operation/([^/?]+)")


class Call:
    """The identity of one AWS request."""

    __slots__ = ("account", "region", "service", "operation", "protocol", "continued")

    def __init__(
        self,
        account: str,
        region: str,
        service: str,
        operation: str,
        protocol: str,
        continued: bool = False,
    ):
        self.account = account
        self.region = region
        self.service = service
        self.operation = operation
        self.protocol = protocol
        # The call asks for a page after the first (it carries a pagination token).
        self.continued = continued

    def key(self) -> tuple[str, str, str, str]:
        return (self.account, self.region, self.service, self.operation)


def _buffer_body(environ: dict) -> bytes:
    """Read the request body once and put it back for moto."""
    cached = environ.get("ecs_topology.body")
    if cached is not None:
        return cached
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    if stream is None:
        body = b""
    elif length > 0:
        body = stream.read(length)
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ["ecs_topology.body"] = body
    return body


def _header(environ: dict, name: str) -> str:
    return environ.get("HTTP_" + name.upper().replace("-", "_"), "") or ""


def _account_of(environ: dict, query: dict[str, list[str]]) -> str:
    """The account moto serves this request from (moto's BaseResponse.get_current_account)."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    header = _header(environ, "x-moto-account-id")
    if header:
        return header
    access_key = "AKIAEXAMPLE"
    auth = _header(environ, "authorization")
    match = _ACCESS_KEY.search(auth) if auth else None
    if match:
        access_key = match.group(1)
    elif query.get("AWSAccessKeyId"):
        access_key = query["AWSAccessKeyId"][0]
    from moto.iam.models import get_account_id_from

    return get_account_id_from(access_key)


def _access_key(environ: dict) -> str | None:
    """The access key that signed the request, if any."""
    auth = _header(environ, "authorization")
    match = _ACCESS_KEY.search(auth) if auth else None
    if match:
        return match.group(1)
    query = parse_qs(environ.get("QUERY_STRING", ""))
    return (query.get("X-Amz-Credential") or [""])[0].split("/")[0] or None


_PROTOCOLS: dict[str, str | None] = {}
_PROTOCOLS_LOCK = threading.Lock()


def _service_protocol(service: str) -> str | None:
    with _PROTOCOLS_LOCK:
        if service in _PROTOCOLS:
            return _PROTOCOLS[service]
    try:
        from moto.core.utils import get_service_model

        protocol: str | None = str(get_service_model(service).protocol)
    except Exception:
        protocol = None
    with _PROTOCOLS_LOCK:
        _PROTOCOLS[service] = protocol
    return protocol


def _rest_operation(service: str, environ: dict) -> str | None:
    """The operation of a REST request, routed the way moto routes it (from botocore's model)."""
    try:
        from moto.core.request import Request
        from moto.core.routing import get_service_router

        operation, _ = get_service_router(service).match(Request(environ))
        return str(operation.name)
    except Exception:
        return None


def _s3_operation(environ: dict, query: dict[str, list[str]]) -> str:
    """A best-effort S3 operation name from method, path and query."""
    method = environ.get("REQUEST_METHOD", "GET").upper()
    path = environ.get("PATH_INFO", "/")
    parts = [p for p in path.split("/") if p]
    has_key = len(parts) >= 2
    if not parts:
        return "ListBuckets" if method == "GET" else method.title() + "Service"
    sub = {
        "tagging": "Tagging",
        "versioning": "Versioning",
        "policy": "Policy",
        "acl": "Acl",
        "lifecycle": "LifecycleConfiguration",
        "notification": "NotificationConfiguration",
        "encryption": "Encryption",
        "cors": "Cors",
        "location": "Location",
    }
    for q, name in sub.items():
        if q in query:
            noun = ("Object" if has_key else "Bucket") + name
            verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method, method.title())
            if q == "location":
                return "GetBucketLocation"
            return verb + noun
    if "uploads" in query:
        return "CreateMultipartUpload" if method == "POST" else "ListMultipartUploads"
    if "uploadId" in query:
        return {
            "PUT": "UploadPart",
            "POST": "CompleteMultipartUpload",
            "DELETE": "AbortMultipartUpload",
            "GET": "ListParts",
        }.get(method, method.title())
    if "delete" in query and method == "POST":
        return "DeleteObjects"
    if has_key:
        if method == "PUT" and _header(environ, "x-amz-copy-source"):
            return "CopyObject"
        return {
            "GET": "GetObject",
            "HEAD": "HeadObject",
            "PUT": "PutObject",
            "DELETE": "DeleteObject",
            "POST": "PostObject",
        }.get(method, method.title() + "Object")
    if method == "GET":
        if "versions" in query:
            return "ListObjectVersions"
        return "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"
    return {
        "HEAD": "HeadBucket",
        "PUT": "CreateBucket",
        "DELETE": "DeleteBucket",
    }.get(method, method.title() + "Bucket")


# Pagination tokens, as query parameters (S3's REST listings, the query and EC2 protocols) or
# members of a JSON body.
_PAGE_PARAMETERS = ("continuation-token", "marker", "key-marker", "NextToken", "nextToken")
_JSON_PAGE_MEMBERS = (b'"NextToken"', b'"nextToken"')


def _continued(environ: dict, query: dict[str, list[str]], protocol: str, form: dict | None) -> bool:
    """Whether a call asks for a page after the first: a non-empty pagination token."""
    for source in (query, form or {}):
        if any((source.get(name) or [""])[0] for name in _PAGE_PARAMETERS):
            return True
    if protocol == "json":
        body = _buffer_body(environ)
        return any(member in body for member in _JSON_PAGE_MEMBERS)
    return False


def identify(environ: dict, dispatcher: Any = None) -> Call:
    """Work out account, region, service, operation and wire protocol of an AWS request."""
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    auth = _header(environ, "authorization")
    region = service = ""
    scope = _CREDENTIAL_SCOPE.search(auth) if auth else None
    credential = scope.group(1) if scope else (query.get("X-Amz-Credential") or [""])[0]
    fields = credential.split("/")
    if len(fields) >= 5:
        region, service = fields[-3], fields[-2].lower()
    if not service and dispatcher is not None:
        # Unsigned: ask moto's dispatcher, which infers a host such as sts.us-east-1.amazonaws.com.
        try:
            host = dispatcher.infer_service_region_host(environ, environ.get("PATH_INFO", ""))
        except Exception:
            host = None
        if host:
            labels = host.split(".")
            service = labels[0]
            region = labels[1] if len(labels) > 3 else "us-east-1"
    service = service or "unknown"
    region = region or "us-east-1"

    target = _header(environ, "x-amz-target")
    content_type = environ.get("CONTENT_TYPE", "") or ""
    operation = ""
    protocol = ""
    form = None
    if target:
        operation = target.rsplit(".", 1)[-1]
        protocol = "json"
    elif "Action" in query:
        operation = query["Action"][0]
        protocol = "ec2" if service == "ec2" else "query"
    elif content_type.startswith("application/x-www-form-urlencoded"):
        form = parse_qs(_buffer_body(environ).decode("utf-8", "replace"), keep_blank_values=True)
        operation = (form.get("Action") or [""])[0]
        protocol = "ec2" if service == "ec2" else "query"
    else:
        rpc = _RPC_V2_PATH.match(environ.get("PATH_INFO", ""))
        if rpc:
            operation = rpc.group(1)
            protocol = "json"
        elif service == "s3":
            operation = _rest_operation("s3", environ) or _s3_operation(environ, query)
            protocol = "rest-xml"
        else:
            operation = _rest_operation(service, environ) or ""
            protocol = _service_protocol(service) or "rest-json"
            if not operation:
                path = environ.get("PATH_INFO", "/").strip("/").split("/")[0]
                operation = f"{environ.get('REQUEST_METHOD', 'GET')} /{path}"
    if not protocol:
        protocol = _service_protocol(service) or "json"
    if protocol in ("smithy-rpc-v2-cbor",):
        protocol = "json"
    account = _account_of(environ, query)
    continued = _continued(environ, query, protocol, form)
    return Call(account, region, service, operation or "unknown", protocol, continued)


# ---------------------------------------------------------------------------------------------
# Throttling: AWS's published request rates as token buckets


def _is_read(operation: str) -> bool:
    return operation.startswith(("Describe", "List", "Get", "Head", "BatchGet")) or operation in (
        "Scan",
        "Query",
    )


# (burst, refill per second) by family. Published by AWS (see shared/reference/aws-limits.md):
#   EC2: every Describe* API has its own bucket of 100/20; every mutating API its own of 50/5,
#        except the VPC peering and route changes, which share the default mutating bucket of
#        50/5 ("ec2:mutating"); CreateVpcEndpoint, ModifyVpcEndpoint and DeleteVpcEndpoints
#        4/0.3 each.
#   ECS: DescribeServices and ListServices share 100/20; CreateService, UpdateService and
#        DeleteService share 50/5; ListTagsForResource 50/20.
#   S3:  5,500 GET/HEAD and 3,500 PUT/COPY/POST/DELETE a second (per prefix; kept per account
#        and region here).
# Not published, so chosen here in the same style: every other read API its own bucket of
# 100/20 and every other mutating API its own bucket of 50/5 (EC2's non-mutating and mutating
# defaults), for ECS (including the Express Gateway operations), Cloud Map, RAM, STS and the
# DynamoDB control plane; the DynamoDB item APIs (GetItem, PutItem, Query, Scan, ...) are
# bounded by table capacity rather than request rates on AWS and get a generous 1,000/1,000
# per account and region.
FAMILIES: dict[str, tuple[float, float]] = {
    "ec2:vpc-endpoint-mutations": (4, 0.3),
    "ec2:mutating": (50, 5),
    "ecs:service-reads": (100, 20),
    "ecs:service-changes": (50, 5),
    "ecs:ListTagsForResource": (50, 20),
    "s3:reads": (5500, 5500),
    "s3:writes": (3500, 3500),
    "dynamodb:items": (1000, 1000),
}
DEFAULT_READ = (100.0, 20.0)
DEFAULT_MUTATING = (50.0, 5.0)

# The VPC peering and route changes draw on EC2's default mutating bucket together
# (shared/reference/aws-limits.md, wave 2); the describes they go with (DescribeVpcPeeringConnections,
# DescribeRouteTables, DescribeVpcs) keep a bucket of their own each.
_EC2_SHARED_MUTATIONS = {
    "CreateVpcPeeringConnection",
    "AcceptVpcPeeringConnection",
    "RejectVpcPeeringConnection",
    "DeleteVpcPeeringConnection",
    "ModifyVpcPeeringConnectionOptions",
    "CreateRoute",
    "ReplaceRoute",
    "DeleteRoute",
}

_DYNAMODB_ITEM_OPS = {
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
    "ExecuteStatement",
    "BatchExecuteStatement",
    "ExecuteTransaction",
}


def family_of(service: str, operation: str) -> tuple[str, tuple[float, float]]:
    """The API family (the token bucket) of an operation and its (burst, refill/s)."""
    if service == "ec2" and operation in ("CreateVpcEndpoint", "ModifyVpcEndpoint", "DeleteVpcEndpoints"):
        # One bucket per API, each of these three at 4/0.3.
        return f"ec2:{operation}", FAMILIES["ec2:vpc-endpoint-mutations"]
    if service == "ec2" and operation in _EC2_SHARED_MUTATIONS:
        return "ec2:mutating", FAMILIES["ec2:mutating"]
    if service == "ecs":
        if operation in ("DescribeServices", "ListServices"):
            return "ecs:service-reads", FAMILIES["ecs:service-reads"]
        if operation in ("CreateService", "UpdateService", "DeleteService"):
            return "ecs:service-changes", FAMILIES["ecs:service-changes"]
        if operation == "ListTagsForResource":
            return "ecs:ListTagsForResource", FAMILIES["ecs:ListTagsForResource"]
    if service == "s3":
        if operation.startswith(("Get", "Head", "List")):
            return "s3:reads", FAMILIES["s3:reads"]
        return "s3:writes", FAMILIES["s3:writes"]
    if service == "dynamodb" and operation in _DYNAMODB_ITEM_OPS:
        return "dynamodb:items", FAMILIES["dynamodb:items"]
    return f"{service}:{operation}", DEFAULT_READ if _is_read(operation) else DEFAULT_MUTATING


class TokenBucket:
    __slots__ = ("burst", "refill", "tokens", "stamp")

    def __init__(self, burst: float, refill: float):
        self.burst = burst
        self.refill = refill
        self.tokens = burst
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.refill)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


# ---------------------------------------------------------------------------------------------
# Profiles

_FAULT_KINDS = ("http500", "http503", "reset", "reset_after", "slow", "hang")


class Profile:
    """A validated realism profile (see the module documentation)."""

    def __init__(self, raw: dict):
        if not isinstance(raw, dict):
            raise ValueError("profile must be an object or null")
        unknown = set(raw) - {"throttle", "latency_ms", "faults", "seed"}
        if unknown:
            raise ValueError(f"unknown profile fields: {sorted(unknown)}")
        self.raw = raw
        throttle = raw.get("throttle", False)
        self.throttle = bool(throttle)
        self.scale = 1.0
        self.overrides: dict[str, tuple[float, float]] = {}
        if isinstance(throttle, dict):
            self.throttle = True
            self.scale = float(throttle.get("scale", 1.0))
            if self.scale <= 0:
                raise ValueError("throttle.scale must be positive")
            for name, rates in (throttle.get("families") or {}).items():
                self.overrides[name] = (float(rates["burst"]), float(rates["refill"]))
        elif not isinstance(throttle, bool):
            raise ValueError("throttle must be true, false or {\"scale\": x}")
        latency = raw.get("latency_ms") or {}
        self.latency_fixed = float(latency.get("fixed", 0)) / 1000.0
        self.latency_jitter = float(latency.get("jitter", 0)) / 1000.0
        if self.latency_fixed < 0 or self.latency_jitter < 0:
            raise ValueError("latency_ms must not be negative")
        faults = raw.get("faults") or {}
        self.rates = [(kind, float(faults.get(kind, 0.0))) for kind in _FAULT_KINDS]
        if any(rate < 0 for _, rate in self.rates) or sum(r for _, r in self.rates) > 1.0 + 1e-9:
            raise ValueError("fault rates must be >= 0 and add up to at most 1")
        self.slow_s = float(faults.get("slow_ms", 2000)) / 1000.0
        self.hang_s = float(faults.get("hang_ms", 60000)) / 1000.0
        if self.hang_s <= 0:
            raise ValueError("faults.hang_ms must be positive")
        operations = faults.get("operations")
        if operations is not None and not (
            isinstance(operations, list) and all(isinstance(o, str) and o for o in operations)
        ):
            raise ValueError("faults.operations must be a list of operation names")
        self.fault_operations = None if operations is None else frozenset(operations)
        self.seed = raw.get("seed")

    def faults_apply_to(self, call: Call) -> bool:
        """Whether faults are drawn for this call (``faults.operations``)."""
        ops = self.fault_operations
        return ops is None or call.operation in ops or f"{call.service}:{call.operation}" in ops

    def rates_for(self, family: str, default: tuple[float, float]) -> tuple[float, float]:
        if family in self.overrides:
            return self.overrides[family]
        burst, refill = default
        return max(1.0, burst * self.scale), refill * self.scale


class _AccountState:
    """The random generator of one account under one profile."""

    def __init__(self, profile: Profile, account: str):
        self.profile = profile
        if profile.seed is None:
            self.rng = random.Random()
        else:
            self.rng = random.Random(f"{profile.seed}/{account}")
        self.lock = threading.Lock()


class Decision:
    __slots__ = ("delay", "throttled", "fault", "hang")

    def __init__(
        self, delay: float = 0.0, throttled: bool = False, fault: str | None = None, hang: float = 0.0
    ):
        self.delay = delay
        self.throttled = throttled
        self.fault = fault
        # How long a ``hang`` fault holds the call at most, in seconds.
        self.hang = hang


class Realism:
    """Profiles, token buckets and call counts; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._profiles: dict[str, Profile] = {}
        self._states: dict[tuple[int, str], _AccountState] = {}
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self._counts: dict[tuple[str, str, str, str], list[int]] = {}

    # -- counting
    def count(self, call: Call, throttled: bool = False, faulted: bool = False) -> None:
        with self._lock:
            row = self._counts.setdefault(call.key(), [0, 0, 0, 0, 0])
            row[0] += 1
            row[1] += int(throttled)
            row[2] += int(faulted)
            row[3] += int(call.continued)
            row[4] += int(call.continued and faulted)

    def calls(self) -> list[dict]:
        with self._lock:
            items = sorted(self._counts.items())
        return [
            {
                "account": a,
                "region": r,
                "service": s,
                "operation": o,
                "calls": c[0],
                "throttled": c[1],
                "faulted": c[2],
                "continued": c[3],
                "continuedFaulted": c[4],
            }
            for (a, r, s, o), c in items
        ]

    # -- profiles
    def set_profile(self, accounts: list[str], profile: Profile | None) -> None:
        with self._lock:
            for account in accounts:
                if profile is None:
                    self._profiles.pop(account, None)
                else:
                    self._profiles[account] = profile
            # The buckets of the accounts this profile now governs start full; "*" governs every
            # account without a profile of its own.
            if "*" in accounts:
                governed = [k for k in self._buckets if k[0] not in self._profiles or k[0] in accounts]
            else:
                governed = [k for k in self._buckets if k[0] in accounts]
            for key in governed:
                del self._buckets[key]
            live = {id(p) for p in self._profiles.values()}
            for key in [k for k in self._states if k[0] not in live]:
                del self._states[key]

    def profiles(self) -> dict:
        with self._lock:
            return {account: p.raw for account, p in self._profiles.items()}

    def reset(self) -> None:
        with self._lock:
            self._profiles.clear()
            self._states.clear()
            self._buckets.clear()

    def decide(self, call: Call) -> Decision:
        with self._lock:
            profile = self._profiles.get(call.account) or self._profiles.get("*")
            if profile is None:
                return Decision()
            state_key = (id(profile), call.account)
            state = self._states.get(state_key)
            if state is None or state.profile is not profile:
                state = self._states[state_key] = _AccountState(profile, call.account)
            throttled = False
            if profile.throttle:
                family, default = family_of(call.service, call.operation)
                bucket_key = (call.account, call.region, family)
                bucket = self._buckets.get(bucket_key)
                if bucket is None:
                    burst, refill = profile.rates_for(family, default)
                    bucket = self._buckets[bucket_key] = TokenBucket(burst, refill)
                throttled = not bucket.take()
        with state.lock:
            delay = profile.latency_fixed
            if profile.latency_jitter:
                delay += state.rng.uniform(0.0, profile.latency_jitter)
            fault = None
            if any(rate for _, rate in profile.rates) and profile.faults_apply_to(call):
                draw = state.rng.random()
                for kind, rate in profile.rates:
                    if draw < rate:
                        fault = kind
                        break
                    draw -= rate
        if throttled:
            fault = None
        if fault == "slow":
            delay += profile.slow_s
        return Decision(delay=delay, throttled=throttled, fault=fault, hang=profile.hang_s)


# ---------------------------------------------------------------------------------------------
# AWS error replies by protocol

_THROTTLE = {
    # protocol: (HTTP status, code, message); checked against botocore's models and the codes
    # the AWS SDKs classify as throttling.
    "ec2": (503, "RequestLimitExceeded", "Request limit exceeded."),
    "query": (400, "Throttling", "Rate exceeded"),
    "json": (400, "ThrottlingException", "Rate exceeded"),
    "rest-json": (429, "ThrottlingException", "Rate exceeded"),
    "rest-xml": (503, "SlowDown", "Please reduce your request rate."),
}
_FAULTS = {
    "http500": (500, "InternalError", "We encountered an internal error. Please try again."),
    "http503": (503, "ServiceUnavailable", "Service is unable to handle request."),
}


def _throttle_error(call: Call) -> tuple[int, str, str]:
    if call.service == "servicediscovery" and call.operation in (
        "DiscoverInstances",
        "DiscoverInstancesRevision",
    ):
        # Cloud Map models its own throttling error for these two (HTTP 429).
        return 429, "RequestLimitExceeded", "Rate exceeded"
    return _THROTTLE.get(call.protocol, _THROTTLE["json"])


def error_response(call: Call, status: int, code: str, message: str, method: str = "POST"):
    """(status line, headers, body) of an AWS error in the wire format of the call's protocol."""
    request_id = str(uuid.uuid4())
    protocol = call.protocol
    headers = [("x-amzn-RequestId", request_id)]
    if protocol == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error>"
            f"</Errors><RequestID>{request_id}</RequestID></Response>"
        )
        headers = [("Content-Type", "text/xml;charset=UTF-8")]
    elif protocol == "query":
        kind = "Sender" if status < 500 else "Receiver"
        body = (
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            f"<Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        headers += [("Content-Type", "text/xml")]
    elif protocol == "rest-xml":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message>"
            f"<RequestId>{request_id[:16].upper()}</RequestId><HostId>{request_id}</HostId></Error>"
        )
        headers = [
            ("Content-Type", "application/xml"),
            ("x-amz-request-id", request_id[:16].upper()),
            ("x-amz-id-2", request_id),
        ]
        if method == "HEAD":
            body = ""
    elif protocol == "rest-json":
        body = json.dumps({"message": message})
        headers += [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
    else:
        body = json.dumps({"__type": code, "message": message})
        headers += [("Content-Type", "application/x-amz-json-1.1")]
    data = body.encode("utf-8")
    headers.append(("Content-Length", str(len(data))))
    return _status_line(status), headers, data


def _status_line(status: int) -> str:
    from http import HTTPStatus

    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Error"


class _ConnectionDropped(ConnectionAbortedError):
    """Raised so that the server drops the connection without a reply."""


def _drop_connection(environ: dict) -> None:
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            # Linger 0: closing the socket sends a reset rather than an orderly close.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise _ConnectionDropped("fault injected: connection reset")


def _hold(environ: dict, limit: float) -> float:
    """Hold a call without replying until the client closes its connection or ``limit`` seconds
    have passed; returns how long it was held.

    The request body is read first, so that what the socket has to say afterwards is the
    client's: an end of stream once it gave up.
    """
    _buffer_body(environ)
    started = time.monotonic()
    deadline = started + limit
    sock = environ.get("werkzeug.socket")
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        if sock is None:
            time.sleep(min(left, 0.1))
            continue
        try:
            readable, _, _ = select.select([sock], [], [], min(left, 0.1))
            if readable and sock.recv(1, socket.MSG_PEEK) == b"":
                break  # the client closed the connection
            if readable:
                time.sleep(min(left, 0.1))  # bytes we do not read: nothing to learn from them
        except (OSError, ValueError):
            break  # the connection is gone
    return time.monotonic() - started


# ---------------------------------------------------------------------------------------------
# The middleware


def _json_reply(start_response: Callable, status: int, payload: Any) -> Iterable[bytes]:
    data = json.dumps(payload).encode("utf-8")
    start_response(
        _status_line(status),
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


def _accounts_arg(value: Any) -> list[str]:
    if value == "*":
        return ["*"]
    if isinstance(value, list) and value and all(isinstance(a, str) and a for a in value):
        return value
    raise ValueError('"accounts" must be "*" or a non-empty list of account ids')


class Middleware:
    def __init__(self, app: Any):
        self.app = app
        self.state = Realism()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or ""
        if path.startswith(ADMIN_PREFIX):
            return self._admin(path[len(ADMIN_PREFIX):].rstrip("/"), environ, start_response)
        if path.startswith("/moto-api") or path == "/favicon.ico":
            if path.rstrip("/") == "/moto-api/reset" and environ.get("REQUEST_METHOD") == "POST":
                settings.reset()
                cloudtrail.reset()
                self.state.reset()
            return self.app(environ, start_response)
        if path.startswith("/latest/"):  # instance metadata
            return self.app(environ, start_response)
        return self._aws(environ, start_response)

    def _aws(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        try:
            call = identify(environ, self.app)
        except Exception:
            call = Call("unknown", "unknown", "unknown", "unknown", "json")
        decision = self.state.decide(call)
        fault = decision.fault
        self.state.count(call, throttled=decision.throttled, faulted=fault is not None)
        if decision.delay > 0:
            time.sleep(decision.delay)
        method = environ.get("REQUEST_METHOD", "POST")
        if decision.throttled:
            status, code, message = _throttle_error(call)
            line, headers, data = error_response(call, status, code, message, method)
            start_response(line, headers)
            return [data]
        if fault in _FAULTS:
            status, code, message = _FAULTS[fault]
            line, headers, data = error_response(call, status, code, message, method)
            start_response(line, headers)
            return [data]
        if fault == "reset":
            _drop_connection(environ)
        if fault == "hang":
            _hold(environ, decision.hang)
            _drop_connection(environ)
        if fault == "reset_after":
            reply = self._serve(call, environ, lambda *args, **kwargs: (lambda _data: None))
            try:
                for _ in reply:
                    pass
            finally:
                close = getattr(reply, "close", None)
                if close is not None:
                    close()
            _drop_connection(environ)
        return self._serve(call, environ, start_response)

    def _serve(self, call: Call, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """Let moto answer; a mutating call that someone listens to is published as CloudTrail
        would (see ``cloudtrail``), for which the request and the reply are kept."""
        if not cloudtrail.recorded(call.service, call.operation) or not eventbridge.listening(
            call.account, call.region
        ):
            return self.app(environ, start_response)
        body = _buffer_body(environ)
        answered: list = []

        def keep(status: str, headers: list, *rest: Any) -> Any:
            answered[:] = [status, headers]
            return start_response(status, headers, *rest)

        reply = self.app(environ, keep)
        try:
            data = b"".join(reply)
        finally:
            close = getattr(reply, "close", None)
            if close is not None:
                close()
        if answered:
            cloudtrail.publish(
                cloudtrail.Call(
                    call.account,
                    call.region,
                    call.service,
                    call.operation,
                    environ,
                    _access_key(environ),
                    body,
                    answered[1],
                    data,
                ),
                answered[0],
            )
        return [data]

    def _admin(self, name: str, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            if name == "health" and method == "GET":
                return _json_reply(start_response, 200, {"status": "ok"})
            if name == "calls" and method == "GET":
                return _json_reply(start_response, 200, {"calls": self.state.calls()})
            if name == "profile" and method == "GET":
                return _json_reply(start_response, 200, {"profiles": self.state.profiles()})
            if name == "settings" and method == "GET":
                return _json_reply(start_response, 200, {"settings": settings.snapshot()})
            if name in ("profile", "settings") and method == "POST":
                body = json.loads(_buffer_body(environ) or b"{}")
                if not isinstance(body, dict):
                    raise ValueError("the body must be a JSON object")
                accounts = _accounts_arg(body.get("accounts"))
                if name == "profile":
                    raw = body.get("profile")
                    profile = Profile(raw) if raw else None
                    self.state.set_profile(accounts, profile)
                else:
                    values = body.get("settings")
                    if not isinstance(values, dict):
                        raise ValueError('"settings" must be an object')
                    settings.update(accounts, values)
                return _json_reply(start_response, 200, {"status": "ok"})
        except (ValueError, TypeError, KeyError) as e:
            return _json_reply(start_response, 400, {"error": str(e)})
        return _json_reply(start_response, 404, {"error": f"no admin endpoint {method} /_emulator/{name}"})


def wrap(app: Any) -> Middleware:
    """Put counting, throttling, latency, faults and the /_emulator/ endpoints in front of app."""
    return Middleware(app)
