"""EC2 VPC peering connections, and the routes that target them, as the AWS API reference and the
VPC Peering Guide describe them.

Stock moto creates a connection ``pending-acceptance`` at once, fails the request with
``InvalidVpcID.NotFound`` when the peer VPC does not exist, never fails it for overlapping CIDR
blocks, jumps from ``pending-acceptance`` straight to ``active``, shows the requester's tags to
the accepter, lets either side set either side's options in any state, keeps every route
``active`` whatever its peering does, ignores the peering filters and never pages. This module
replaces the peering operations of moto's EC2 response class and wraps its route operations.
A connection lives in moto's own ``vpc_pcxs`` table of the backend of each party that can see
it (the requester's account and region, and the accepter's), so moto's routes, tags and
``/moto-api/reset`` keep working.

Behaviour:

- ``CreateVpcPeeringConnection``: ``VpcId`` must be one of the caller's VPCs
  (``InvalidVpcID.NotFound``); ``PeerOwnerId`` defaults to the caller's account and
  ``PeerRegion`` to the caller's region. The call answers ``initiating-request``
  ("Initiating Request to <accepter account>") with an ``ExpirationTime`` seven days ahead. The
  connection then goes ``failed`` ("Failed due to incorrect VPC-ID, Account ID, or overlapping
  CIDR range") when the peer VPC does not exist in the peer account and region or when any
  associated IPv4 (or IPv6) CIDR block of one VPC overlaps one of the other, else
  ``pending-acceptance`` ("Pending Acceptance by <accepter account>"). A failed connection is
  seen by the requester only. While an ``active`` (or ``provisioning``) connection joins the
  two VPCs, another request fails with ``VpcPeeringConnectionAlreadyExists``. Tags from
  ``TagSpecifications`` (resource type ``vpc-peering-connection``) belong to the requester.
- ``AcceptVpcPeeringConnection``: only the accepter VPC's account may accept (else
  ``OperationNotPermitted`` "User <account> cannot accept peering <id>"), in the accepter's
  region (else ``OperationNotPermitted``), and only a ``pending-acceptance`` connection (else
  ``InvalidStateTransition``). The reply says ``provisioning``; the connection is
  ``provisioning`` for ``ec2.vpc_peering_provisioning`` seconds (the accepter's setting,
  default 0), then ``active``. ``RejectVpcPeeringConnection`` follows the same rules and leaves
  it ``rejected``. Unaccepted, it turns ``expired`` after ``ec2.vpc_peering_expiry`` seconds
  (the requester's setting, default seven days).
- ``DeleteVpcPeeringConnection``: either owner may delete an ``active`` (or ``provisioning``)
  connection, only the requester a ``pending-acceptance`` one (else ``OperationNotPermitted``);
  a ``failed``, ``rejected``, ``expired`` or deleted one gives ``InvalidStateTransition``. It
  turns ``deleted`` ("Deleted by <account>"); an inter-Region connection is ``deleting`` for
  ``ec2.vpc_peering_deleting`` seconds first (default 0).
- An ended connection stays listed as AWS keeps it: ``failed`` 2 hours to the requester,
  ``expired`` 2 days to both, ``rejected`` 2 days to the requester and 2 hours to the accepter,
  ``deleted`` 2 hours to the deleter and 2 days to the other party (2 hours for both within one
  account). The per-account setting ``ec2.vpc_peering_ended_visible`` (seconds) replaces these
  durations for that party; afterwards the connection is unknown to it
  (``InvalidVpcPeeringConnectionID.NotFound``).
- Tags are per account and region: each party sees only the tags it set itself
  (``CreateTags``/``DeleteTags`` on the ``pcx-`` id).
- ``DescribeVpcPeeringConnections``: both parties see the connection; filters
  ``accepter-vpc-info.cidr-block``, ``accepter-vpc-info.owner-id``, ``accepter-vpc-info.vpc-id``,
  ``expiration-time``, ``requester-vpc-info.cidr-block``, ``requester-vpc-info.owner-id``,
  ``requester-vpc-info.vpc-id``, ``status-code``, ``status-message``, ``tag:<key>``,
  ``tag-key``, ``vpc-peering-connection-id`` (``*``/``?`` wildcards); ``MaxResults`` 5..1000
  (more is capped) with an opaque ``NextToken``. The accepter's CIDR blocks are shown once the
  connection is accepted, the requester's always; ``CidrBlockSet`` lists every associated IPv4
  block. Each side's ``PeeringOptions`` carries ``AllowDnsResolutionFromRemoteVpc``.
- ``ModifyVpcPeeringConnectionOptions``: only on an ``active`` connection (else
  ``OperationNotPermitted`` "Peering <id> is not active. Peering options can be added only to
  active peerings."); the requester's account, in the requester's region, sets only
  ``RequesterPeeringConnectionOptions`` and the accepter's, in the accepter's region, only
  ``AccepterPeeringConnectionOptions`` (else ``OperationNotPermitted`` "User <account> does
  not have permission to modify the accepter|requester side peering options"); within one
  account and region both. Enabling DNS resolution needs DNS support and DNS hostnames on both
  VPCs (``InvalidVpcPeeringConnectionState.DnsHostnamesDisabled``); the ClassicLink options are
  refused for inter-Region connections. The reply carries the sides that were modified.
- Routes: ``CreateRoute``/``ReplaceRoute`` with ``VpcPeeringConnectionId`` need a connection the
  caller sees, one of whose VPCs is the route table's, that is ``pending-acceptance``,
  ``provisioning`` or ``active`` (a route to an ended connection is refused with
  ``InvalidVpcPeeringConnectionID.NotFound``, and to another VPC's with
  ``InvalidParameterValue``). A peering route is ``active`` while its connection is active and
  ``blackhole`` otherwise (before acceptance, after deletion).
- ``DescribeRouteTables`` pages with ``MaxResults`` 5..100 and ``NextToken``;
  ``DescribeVpcs`` with ``MaxResults`` 5..1000. Without either, both answer as moto does.

Sources: the EC2 API reference (CreateVpcPeeringConnection, AcceptVpcPeeringConnection,
DeleteVpcPeeringConnection, VpcPeeringConnectionStateReason, DescribeVpcPeeringConnections
filters, the error-code list) and botocore's model for the MaxResults ranges; the VPC Peering
Guide (lifecycle, limitations, route tables, DNS options); status messages and the
``OperationNotPermitted`` texts as AWS returns them in the AWS CLI examples and in users'
reports. The messages of ``rejected``, ``expired``, ``deleting`` and ``deleted`` follow moto's.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from moto.core.responses import ActionResult
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models.route_tables import Route
from moto.ec2.models.vpc_peering_connections import VPCPeeringConnection
from moto.ec2.responses import EC2Response
from moto.ec2.utils import random_vpc_peering_connection_id

from . import common, settings
from .common import (
    TOKEN_FINGERPRINT_DIGITS,
    decode_offset_token,
    decode_token,
    encode_offset_token,
    encode_token,
    fingerprint,
)

_LOCK = threading.RLock()

HOUR = 3600.0
DAY = 24 * HOUR
DEFAULT_EXPIRY = 7 * DAY

PEERING_MAX_RESULTS = (5, 1000)
ROUTE_TABLES_MAX_RESULTS = (5, 100)
VPCS_MAX_RESULTS = (5, 1000)

FAILED_MESSAGE = "Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range"

# States in which a connection can carry traffic, or is about to.
_LIVE = ("provisioning", "active")
# States from which nothing more happens.
_ENDED = ("failed", "expired", "rejected", "deleted")

_FILTERS = {
    "accepter-vpc-info.cidr-block",
    "accepter-vpc-info.owner-id",
    "accepter-vpc-info.vpc-id",
    "expiration-time",
    "requester-vpc-info.cidr-block",
    "requester-vpc-info.owner-id",
    "requester-vpc-info.vpc-id",
    "status-code",
    "status-message",
    "tag-key",
    "vpc-peering-connection-id",
}

_CLASSIC_LINK_OPTIONS = ("AllowEgressFromLocalClassicLinkToRemoteVpc", "AllowEgressFromLocalVpcToRemoteClassicLink")


def _error(code: str, message: str) -> EC2ClientError:
    return EC2ClientError(code, message)


def _not_found(pcx_id: str) -> EC2ClientError:
    return _error("InvalidVpcPeeringConnectionID.NotFound", f"The vpcPeeringConnection ID '{pcx_id}' does not exist")


def _wrong_state(pcx_id: str) -> EC2ClientError:
    return _error(
        "InvalidStateTransition",
        f"VpcPeeringConnectionID {pcx_id} is not in the correct state for the request.",
    )


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() == "true"


def _seconds(account: str, name: str, default: float) -> float:
    """The per-account setting ``name`` in seconds; ``default`` when unset or not a number."""
    try:
        value = settings.get(account, name, None)
        return default if value is None else float(value)
    except (TypeError, ValueError):
        return default


def _ec2_backend(account: str, region: str) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[account][region]


# ---------------------------------------------------------------------------------------------
# the connection


class Party:
    """One side of a connection: its account, region and (for a peer that exists) VPC."""

    def __init__(self, account: str, region: str, vpc_id: str, vpc: Any | None):
        self.account = account
        self.region = region
        self.vpc_id = vpc_id
        self.vpc = vpc

    @property
    def key(self) -> tuple[str, str]:
        return (self.account, self.region)


class Peering(VPCPeeringConnection):
    """A VPC peering connection whose status follows the clock and its owners' calls.

    Subclasses moto's connection so that moto's routes accept it as a target; its status,
    options and visibility are this module's.
    """

    def __init__(self, pcx_id: str, requester: Party, accepter: Party, *, seq: int, failed: bool):
        # moto's constructor needs real VPCs; set the attributes it would set instead.
        self.id = pcx_id
        self.ec2_backend = _ec2_backend(*requester.key)
        self.vpc = requester.vpc
        self.peer_vpc = accepter.vpc
        self.requester = requester
        self.accepter = accepter
        self.seq = seq
        self.requester_options = dict(VPCPeeringConnection.DEFAULT_OPTIONS)
        self.accepter_options = dict(VPCPeeringConnection.DEFAULT_OPTIONS)
        self._failed = failed
        self._created = time.monotonic()
        self._expires_after = _seconds(requester.account, "ec2.vpc_peering_expiry", DEFAULT_EXPIRY)
        self.expiration_time = datetime.now(timezone.utc) + timedelta(seconds=self._expires_after)
        self._accepted: float | None = None
        self._provisioning_for = 0.0
        self._rejected: float | None = None
        self._deleted: float | None = None
        self._deleting_for = 0.0
        self.deleted_by: str | None = None

    # -- status

    @property
    def inter_region(self) -> bool:
        return self.requester.region != self.accepter.region

    def code_and_since(self, now: float | None = None) -> tuple[str, float]:
        """The status code now and the monotonic time it began."""
        now = time.monotonic() if now is None else now
        if self._failed:
            return "failed", self._created
        if self._deleted is not None:
            if now < self._deleted + self._deleting_for:
                return "deleting", self._deleted
            return "deleted", self._deleted + self._deleting_for
        if self._rejected is not None:
            return "rejected", self._rejected
        if self._accepted is not None:
            if now < self._accepted + self._provisioning_for:
                return "provisioning", self._accepted
            return "active", self._accepted + self._provisioning_for
        expires = self._created + self._expires_after
        if now >= expires:
            return "expired", expires
        return "pending-acceptance", self._created

    @property
    def code(self) -> str:
        return self.code_and_since()[0]

    def message(self, code: str) -> str:
        return {
            "initiating-request": f"Initiating Request to {self.accepter.account}",
            "pending-acceptance": f"Pending Acceptance by {self.accepter.account}",
            "failed": FAILED_MESSAGE,
            "provisioning": "Provisioning",
            "active": "Active",
            "rejected": "Inactive",
            "expired": "Expired",
            "deleting": "Deleting",
            "deleted": f"Deleted by {self.deleted_by}",
        }[code]

    @property
    def status(self) -> dict[str, str]:  # type: ignore[override]
        code = self.code
        return {"Code": code, "Message": self.message(code)}

    # -- transitions

    def accept(self, provisioning_for: float) -> None:
        self._accepted = time.monotonic()
        self._provisioning_for = provisioning_for

    def reject(self) -> None:
        self._rejected = time.monotonic()

    def delete(self, by: str, deleting_for: float) -> None:
        self._deleted = time.monotonic()
        self._deleting_for = deleting_for if self.inter_region else 0.0
        self.deleted_by = by

    # -- who sees it

    def parties(self) -> list[tuple[str, str]]:
        """The (account, region) backends the connection is listed in."""
        if self._failed or self.requester.key == self.accepter.key:
            return [self.requester.key]
        return [self.requester.key, self.accepter.key]

    def visible_for(self, party: tuple[str, str], code: str) -> float | None:
        """How long after it ended the connection stays listed for ``party`` (AWS's durations,
        or the party's ``ec2.vpc_peering_ended_visible``); ``None`` while it has not ended."""
        if code not in _ENDED:
            return None
        own = _seconds(party[0], "ec2.vpc_peering_ended_visible", -1.0)
        if own >= 0:
            return own
        same_account = self.requester.account == self.accepter.account
        is_requester = party == self.requester.key
        if code == "failed":
            return 2 * HOUR
        if code == "expired":
            return 2 * DAY
        if code == "rejected":
            return 2 * HOUR if same_account or not is_requester else 2 * DAY
        # deleted
        if same_account or party[0] == self.deleted_by:
            return 2 * HOUR
        return 2 * DAY

    def gone_for(self, party: tuple[str, str]) -> bool:
        code, since = self.code_and_since()
        visible = self.visible_for(party, code)
        return visible is not None and time.monotonic() >= since + visible


def _code(pcx: Any) -> str:
    """The status code of any connection moto holds (ours, or one moto created itself)."""
    if isinstance(pcx, Peering):
        return pcx.code
    return pcx._status.code


# ---------------------------------------------------------------------------------------------
# bookkeeping on the backends


class _Seq:
    value = 0


def _next_seq() -> int:
    _Seq.value += 1
    return _Seq.value


def _purge(backend: Any) -> None:
    party = (backend.account_id, backend.region_name)
    for pcx_id, pcx in list(backend.vpc_pcxs.items()):
        if isinstance(pcx, Peering) and pcx.gone_for(party):
            backend.vpc_pcxs.pop(pcx_id, None)
            backend.tags.pop(pcx_id, None)


def _visible(backend: Any) -> list[Any]:
    _purge(backend)
    return sorted(backend.vpc_pcxs.values(), key=lambda p: getattr(p, "seq", 0))


def _get(backend: Any, pcx_id: str | None) -> Peering:
    if not pcx_id:
        raise _error("MissingParameter", "The request must contain the parameter VpcPeeringConnectionId")
    _purge(backend)
    pcx = backend.vpc_pcxs.get(pcx_id)
    if not isinstance(pcx, Peering):
        raise _not_found(pcx_id)
    return pcx


def _cidrs(vpc: Any, ipv6: bool = False) -> list[str]:
    return [
        c["cidr_block"]
        for c in vpc.get_cidr_block_association_set(ipv6=ipv6)
        if (c.get("cidr_block_state") or {}).get("state", "associated") == "associated"
    ]


def _overlap(one: Any, other: Any) -> bool:
    for ipv6 in (False, True):
        for a in _cidrs(one, ipv6):
            for b in _cidrs(other, ipv6):
                if ipaddress.ip_network(a, strict=False).overlaps(ipaddress.ip_network(b, strict=False)):
                    return True
    return False


def _joins(pcx: Peering, vpc_a: str, vpc_b: str) -> bool:
    return {pcx.requester.vpc_id, pcx.accepter.vpc_id} == {vpc_a, vpc_b}


# ---------------------------------------------------------------------------------------------
# wire representation


def _options(options: dict[str, Any]) -> dict[str, bool]:
    return {k: _truthy(v) for k, v in options.items()}


def _vpc_info(party: Party, options: dict[str, Any], with_cidrs: bool) -> dict[str, Any]:
    info: dict[str, Any] = {"OwnerId": party.account, "VpcId": party.vpc_id, "Region": party.region}
    if with_cidrs and party.vpc is not None:
        info["CidrBlock"] = party.vpc.cidr_block
        info["CidrBlockSet"] = [{"CidrBlock": c} for c in _cidrs(party.vpc)]
        ipv6 = _cidrs(party.vpc, ipv6=True)
        if ipv6:
            info["Ipv6CidrBlockSet"] = [{"Ipv6CidrBlock": c} for c in ipv6]
        info["PeeringOptions"] = _options(options)
    return info


def _tags(backend: Any, pcx_id: str) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in backend.tags.get(pcx_id, {}).items()]


def _to_wire(backend: Any, pcx: Peering, code: str | None = None) -> dict[str, Any]:
    """The connection as ``backend``'s account sees it (its own tags only)."""
    code = code or pcx.code
    accepted = code in ("provisioning", "active", "deleting", "deleted")
    item: dict[str, Any] = {
        "VpcPeeringConnectionId": pcx.id,
        "RequesterVpcInfo": _vpc_info(pcx.requester, pcx.requester_options, True),
        "AccepterVpcInfo": _vpc_info(pcx.accepter, pcx.accepter_options, accepted),
        "Status": {"Code": code, "Message": pcx.message(code)},
        "Tags": _tags(backend, pcx.id),
    }
    if code in ("initiating-request", "pending-acceptance", "expired"):
        item["ExpirationTime"] = pcx.expiration_time
    return item


# ---------------------------------------------------------------------------------------------
# filters and paging


def _filter_value(pcx: Peering, name: str) -> Any:
    """The value of the connection's field that filter ``name`` (not a tag filter) compares."""
    if name == "vpc-peering-connection-id":
        return pcx.id
    if name in ("status-code", "status-message"):
        code = pcx.code
        return code if name == "status-code" else pcx.message(code)
    if name == "expiration-time":
        return pcx.expiration_time.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    side, _, field = name.partition(".")
    party = pcx.requester if side == "requester-vpc-info" else pcx.accepter
    if field == "owner-id":
        return party.account
    if field == "vpc-id":
        return party.vpc_id
    if field == "cidr-block":
        shown = side == "requester-vpc-info" or pcx.code in ("provisioning", "active", "deleting", "deleted")
        return _cidrs(party.vpc) if shown and party.vpc is not None else None
    return None


def _invalid_value(message: str) -> EC2ClientError:
    return _error("InvalidParameterValue", message)


def _max_results(raw: Any, bounds: tuple[int, int]) -> int | None:
    """``MaxResults`` as AWS takes it: below the minimum is refused, above the maximum capped."""
    if raw is None:
        return None
    value = int(raw)
    low, high = bounds
    if value < low:
        raise _error(
            "InvalidParameterValue",
            f"Value ( {value} ) for parameter maxResults is invalid. Expecting a value greater than {low}.",
        )
    return min(value, high)


def _invalid_token(token: str) -> Callable[[], EC2ClientError]:
    return lambda: _error("InvalidPaginationToken", f"Invalid pagination token: {token}")


def _page(items: list[Any], limit: int | None, token: str | None, request: Any) -> tuple[list[Any], str | None]:
    """One page of ``items`` (an offset token bound to ``request``); everything without paging."""
    if limit is None and token is None:
        return items, None
    offset = decode_offset_token(token, request, _invalid_token(str(token)))
    limit = limit or max(len(items), 1)
    page = items[offset : offset + limit]
    following = offset + limit
    return page, encode_offset_token(following, request) if following < len(items) else None


# ---------------------------------------------------------------------------------------------
# peering operations


def create_vpc_peering_connection(self: Any) -> ActionResult:
    self.error_on_dryrun()
    backend = self.ec2_backend
    account, region = backend.account_id, self.region
    vpc_id = self._get_param("VpcId")
    peer_vpc_id = self._get_param("PeerVpcId")
    peer_owner = self._get_param("PeerOwnerId") or account
    peer_region = self._get_param("PeerRegion") or region
    tags = common.tag_specifications(self._get_param("TagSpecifications", []), "vpc-peering-connection", _invalid_value)
    if not vpc_id:
        raise _error("MissingParameter", "The request must contain the parameter VpcId")
    if not peer_vpc_id:
        raise _error("MissingParameter", "The request must contain the parameter PeerVpcId")
    with _LOCK:
        vpc = backend.get_vpc(vpc_id)  # InvalidVpcID.NotFound
        try:
            peer_backend = _ec2_backend(str(peer_owner), str(peer_region))
        except KeyError:
            raise _error("InvalidParameterValue", f"Invalid value '{peer_region}' for PeerRegion") from None
        peer_vpc = peer_backend.vpcs.get(peer_vpc_id)
        requester = Party(account, region, vpc_id, vpc)
        accepter = Party(str(peer_owner), str(peer_region), peer_vpc_id, peer_vpc)
        failed = peer_vpc is None or _overlap(vpc, peer_vpc)
        if not failed:
            for other in _visible(backend):
                if isinstance(other, Peering) and other.code in _LIVE and _joins(other, vpc_id, peer_vpc_id):
                    raise _error(
                        "VpcPeeringConnectionAlreadyExists",
                        f"A VPC peering connection already exists between {vpc_id} and {peer_vpc_id}.",
                    )
        pcx = Peering(random_vpc_peering_connection_id(), requester, accepter, seq=_next_seq(), failed=failed)
        for key in pcx.parties():
            _ec2_backend(*key).vpc_pcxs[pcx.id] = pcx
        if tags:
            backend.create_tags([pcx.id], tags)
        return ActionResult({"VpcPeeringConnection": _to_wire(backend, pcx, "initiating-request")})


def _awaiting_answer(backend: Any, pcx_id: Any, verb: str) -> Peering:
    """The connection ``pcx_id`` that ``backend``'s account and region, its accepter, may
    ``verb`` (accept or reject): one pending acceptance."""
    pcx = _get(backend, pcx_id)
    account, region = backend.account_id, backend.region_name
    if account != pcx.accepter.account:
        raise _error("OperationNotPermitted", f"User {account} cannot {verb} peering {pcx.id}")
    if region != pcx.accepter.region:
        raise _error(
            "OperationNotPermitted",
            f"Incorrect region ({region}) specified for this request. "
            f"VPC peering connection {pcx.id} must be accepted in region {pcx.accepter.region}",
        )
    if pcx.code != "pending-acceptance":
        raise _wrong_state(pcx.id)
    return pcx


def accept_vpc_peering_connection(self: Any) -> ActionResult:
    self.error_on_dryrun()
    backend = self.ec2_backend
    with _LOCK:
        pcx = _awaiting_answer(backend, self._get_param("VpcPeeringConnectionId"), "accept")
        for other in _visible(backend):
            if (
                isinstance(other, Peering)
                and other is not pcx
                and other.code in _LIVE
                and _joins(other, pcx.requester.vpc_id, pcx.accepter.vpc_id)
            ):
                raise _error(
                    "VpcPeeringConnectionAlreadyExists",
                    f"A VPC peering connection already exists between {pcx.requester.vpc_id} "
                    f"and {pcx.accepter.vpc_id}.",
                )
        pcx.accept(_seconds(backend.account_id, "ec2.vpc_peering_provisioning", 0.0))
        return ActionResult({"VpcPeeringConnection": _to_wire(backend, pcx, "provisioning")})


def reject_vpc_peering_connection(self: Any) -> ActionResult:
    self.error_on_dryrun()
    backend = self.ec2_backend
    with _LOCK:
        pcx = _awaiting_answer(backend, self._get_param("VpcPeeringConnectionId"), "reject")
        pcx.reject()
        return ActionResult({"Return": True})


def delete_vpc_peering_connection(self: Any) -> ActionResult:
    self.error_on_dryrun()
    backend = self.ec2_backend
    account = backend.account_id
    with _LOCK:
        pcx = _get(backend, self._get_param("VpcPeeringConnectionId"))
        code = pcx.code
        if code in _ENDED or code == "deleting":
            raise _wrong_state(pcx.id)
        if code == "pending-acceptance" and account != pcx.requester.account:
            raise _error("OperationNotPermitted", f"User {account} cannot delete peering {pcx.id}")
        pcx.delete(account, _seconds(account, "ec2.vpc_peering_deleting", 0.0))
        return ActionResult({"Return": True})


def describe_vpc_peering_connections(self: Any) -> ActionResult:
    self.error_on_dryrun()
    backend = self.ec2_backend
    ids = list(self._get_param("VpcPeeringConnectionIds", []) or [])
    filters = common.parse_filters(self, _FILTERS, _invalid_value)
    limit = _max_results(self._get_param("MaxResults"), PEERING_MAX_RESULTS)
    token = self._get_param("NextToken")
    with _LOCK:
        connections = [p for p in _visible(backend) if isinstance(p, Peering)]
        connections = common.named(connections, ids, _not_found)
        connections = common.filtered(connections, filters, lambda p: backend.tags.get(p.id, {}), _filter_value)
        bound = fingerprint({"ids": sorted(ids), "filters": filters})[:TOKEN_FINGERPRINT_DIGITS]
        if token is not None:
            after = decode_token(token, _invalid_token(str(token)), lambda d: _after(d, bound))
            connections = [p for p in connections if p.seq > after]
        following = None
        if limit is not None or token is not None:
            size = limit or PEERING_MAX_RESULTS[1]
            if len(connections) > size:
                connections = connections[:size]
                following = encode_token({"after": connections[-1].seq, "f": bound})
        result: dict[str, Any] = {"VpcPeeringConnections": [_to_wire(backend, p) for p in connections]}
        if following:
            result["NextToken"] = following
        return ActionResult(result)


def _after(data: dict[str, Any], bound: str) -> int:
    """The sequence number a peering token continues after; refused for another request's."""
    if data["f"] != bound:
        raise ValueError(data)
    return int(data["after"])


def _requested_options(raw: Any) -> dict[str, bool] | None:
    if not raw:
        return None
    return {k: _truthy(v) for k, v in dict(raw).items()}


def modify_vpc_peering_connection_options(self: Any) -> ActionResult:
    self.error_on_dryrun()
    backend = self.ec2_backend
    caller = (backend.account_id, backend.region_name)
    accepter_options = _requested_options(self._get_param("AccepterPeeringConnectionOptions"))
    requester_options = _requested_options(self._get_param("RequesterPeeringConnectionOptions"))
    with _LOCK:
        pcx = _get(backend, self._get_param("VpcPeeringConnectionId"))
        if pcx.code != "active":
            raise _error(
                "OperationNotPermitted",
                f"Peering {pcx.id} is not active. Peering options can be added only to active peerings.",
            )
        for side, options, party in (
            ("requester", requester_options, pcx.requester),
            ("accepter", accepter_options, pcx.accepter),
        ):
            if options is None:
                continue
            if caller != party.key:
                raise _error(
                    "OperationNotPermitted",
                    f"User {caller[0]} does not have permission to modify the {side} side peering options",
                )
            classic = [o for o in _CLASSIC_LINK_OPTIONS if options.get(o)]
            if classic and pcx.inter_region:
                raise _error(
                    "OperationNotPermitted",
                    f"Modifying VPC peering connection options {', '.join(classic)} is not supported for "
                    "cross-region VPC peering connections",
                )
            if options.get("AllowDnsResolutionFromRemoteVpc"):
                for vpc in (pcx.requester.vpc, pcx.accepter.vpc):
                    if vpc is None or not (_truthy(vpc.enable_dns_support) and _truthy(vpc.enable_dns_hostnames)):
                        raise _error(
                            "InvalidVpcPeeringConnectionState.DnsHostnamesDisabled",
                            "To enable DNS hostname resolution for the VPC peering connection, DNS hostname "
                            "support must be enabled for the VPCs.",
                        )
        result: dict[str, Any] = {}
        if requester_options is not None:
            pcx.requester_options.update(requester_options)
            result["RequesterPeeringConnectionOptions"] = _options(pcx.requester_options)
        if accepter_options is not None:
            pcx.accepter_options.update(accepter_options)
            result["AccepterPeeringConnectionOptions"] = _options(pcx.accepter_options)
        return ActionResult(result)


# ---------------------------------------------------------------------------------------------
# routes and the describes that page


def _route_state(route: Route) -> str:
    pcx = route.vpc_pcx
    if pcx is not None and _code(pcx) != "active":
        return "blackhole"
    return "active"


def _check_route_target(self: Any) -> None:
    pcx_id = self._get_param("VpcPeeringConnectionId")
    if not pcx_id:
        return
    backend = self.ec2_backend
    table = backend.get_route_table(self._get_param("RouteTableId"))  # InvalidRouteTableID.NotFound
    _purge(backend)
    pcx = backend.vpc_pcxs.get(pcx_id)
    if pcx is None or _code(pcx) in _ENDED or _code(pcx) == "deleting":
        raise _not_found(pcx_id)
    vpcs = {pcx.requester.vpc_id, pcx.accepter.vpc_id} if isinstance(pcx, Peering) else {pcx.vpc.id, pcx.peer_vpc.id}
    if table.vpc_id not in vpcs:
        raise _error(
            "InvalidParameterValue",
            f"route table {table.id} and network gateway {pcx_id} belong to different networks",
        )


def _wrap_route_call(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def call(self: Any) -> Any:
        with _LOCK:
            _check_route_target(self)
            return original(self)

    call.__name__ = original.__name__
    call.__doc__ = original.__doc__
    return call


def _paged_describe(
    original: Callable[[Any], Any], key: str, bounds: tuple[int, int]
) -> Callable[[Any], Any]:
    """moto's describe, paged by ``MaxResults``/``NextToken`` when the request asks for it."""

    def call(self: Any) -> Any:
        raw_limit = self._get_param("MaxResults")
        token = self._get_param("NextToken")
        if raw_limit is None and token is None:
            return original(self)
        limit = _max_results(raw_limit, bounds)
        reply = original(self)
        items = list(reply.result.get(key) or [])
        ignored = ("MaxResults", "NextToken", "Action", "Version")
        request = {"op": key, "query": sorted((k, str(v)) for k, v in self.querystring.items() if k not in ignored)}
        page, following = _page(items, limit, token, request)
        data = dict(reply.result)
        data[key] = page
        if following:
            data["NextToken"] = following
        return ActionResult(data)

    call.__name__ = original.__name__
    return call


def install() -> None:
    common.install_handlers(
        EC2Response,
        create_vpc_peering_connection,
        accept_vpc_peering_connection,
        reject_vpc_peering_connection,
        delete_vpc_peering_connection,
        describe_vpc_peering_connections,
        modify_vpc_peering_connection_options,
    )
    EC2Response.create_route = _wrap_route_call(EC2Response.create_route)
    EC2Response.replace_route = _wrap_route_call(EC2Response.replace_route)
    EC2Response.describe_route_tables = _paged_describe(
        EC2Response.describe_route_tables, "RouteTables", ROUTE_TABLES_MAX_RESULTS
    )
    EC2Response.describe_vpcs = _paged_describe(EC2Response.describe_vpcs, "Vpcs", VPCS_MAX_RESULTS)
    Route.state = property(_route_state)  # type: ignore[method-assign,assignment]
