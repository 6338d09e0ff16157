"""EC2 VPC endpoints as the AWS API reference describes them.

Stock moto creates endpoints ``available`` at once, ignores ``ClientToken``, accepts any service
name, fails on the ``vpc-endpoint-id`` filter, never pages, drops ``PrivateDnsEnabled`` and
``ResetPolicy`` on modify, and lists deleted endpoints forever. This module replaces the four
endpoint operations of moto's EC2 response class; endpoints stay in moto's own
``vpc_end_points`` table of the per-account/region backend, so routes, ENIs, tags and
``/moto-api/reset`` keep working as for every other EC2 resource.

Behaviour:

- ``CreateVpcEndpoint``: the service name must be one ``DescribeVpcEndpointServices`` lists for
  the region (else ``InvalidServiceName``) and offer the requested endpoint type (else
  ``InvalidParameter``). Interface endpoints get one network interface per subnet (one subnet per
  Availability Zone), DNS entries (regional, one per zone, and the service's private name when
  private DNS is on) and security groups (the VPC's default group when none is given). Private
  DNS, on by default for interface endpoints, needs the VPC attributes ``enableDnsSupport`` and
  ``enableDnsHostnames``. Gateway endpoints add a route to the service's prefix list in each
  route table. ``ClientToken``: the same token with the same parameters returns the endpoint
  created first; with other parameters it fails with ``IdempotentParameterMismatch``.
- A new endpoint is ``pending`` for the per-account setting ``ec2.vpc_endpoint_pending``
  seconds (default 0), then ``available``.
- ``DeleteVpcEndpoints``: the endpoint turns ``deleted`` (routes and network interfaces are
  removed at once) and stays listed as ``deleted`` for ``ec2.vpc_endpoint_deleted_visible``
  seconds (default 0: gone from every Describe right after the call); afterwards it is unknown
  (``InvalidVpcEndpointId.NotFound``).
- ``DescribeVpcEndpoints``: ``MaxResults`` 5..1000 (more is capped at 1,000) with an opaque
  ``NextToken``; filters ``vpc-id``, ``service-name``, ``vpc-endpoint-id``,
  ``vpc-endpoint-state``, ``vpc-endpoint-type``, ``ip-address-type``, ``service-region``,
  ``tag:<key>`` and ``tag-key``, with ``*``/``?`` wildcards; tags are part of every item.
- ``ModifyVpcEndpoint``: subnets, security groups, route tables (with their routes), policy,
  ``ResetPolicy`` and ``PrivateDnsEnabled``.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models.vpcs import VPCEndPoint
from moto.ec2.responses import EC2Response
from moto.ec2.utils import random_private_ip, random_vpc_ep_id
from moto.moto_api._internal import mock_random

from . import settings
from .common import (
    ClientTokens,
    backend_state,
    decode_token,
    encode_token,
    filtered,
    fingerprint,
    install_handlers,
    named,
    parse_filters,
    tag_specifications,
)

_LOCK = threading.RLock()

DEFAULT_POLICY = json.dumps(VPCEndPoint.DEFAULT_POLICY)

MAX_RESULTS_CAP = 1000
MIN_MAX_RESULTS = 5

_SUPPORTED_FILTERS = {
    "vpc-id",
    "service-name",
    "vpc-endpoint-id",
    "vpc-endpoint-state",
    "vpc-endpoint-type",
    "ip-address-type",
    "service-region",
    "tag-key",
}

_TYPE_NAMES = {"interface": "Interface", "gateway": "Gateway", "gatewayloadbalancer": "GatewayLoadBalancer"}


def _error(code: str, message: str) -> EC2ClientError:
    return EC2ClientError(code, message)


def _invalid_parameter(message: str) -> EC2ClientError:
    return _error("InvalidParameter", message)


def _not_found(endpoint_id: str) -> EC2ClientError:
    return _error("InvalidVpcEndpointId.NotFound", f"The Vpc Endpoint Id '{endpoint_id}' does not exist")


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() == "true"


class _State:
    """Endpoint bookkeeping kept on the EC2 backend (wiped with it by /moto-api/reset)."""

    def __init__(self) -> None:
        self.seq = 0
        # ClientToken -> the id of the endpoint its first request created (kept as long as the backend)
        self.tokens = ClientTokens()


def _state(backend: Any) -> _State:
    return backend_state(backend, "_ecs_topology_vpce", _State)


class Endpoint(VPCEndPoint):
    """A VPC endpoint whose state follows the clock: pending, available, deleted."""

    def __init__(self, *args: Any, pending_for: float = 0.0, seq: int = 0, **kwargs: Any):
        self._created = time.monotonic()
        self._pending_for = float(pending_for)
        self._deleted_at: float | None = None
        self._deleted_visible_for = 0.0
        self.seq = seq
        self.ip_address_type = "ipv4"
        self.service_region: str | None = None
        self.zone_dns: dict[str, str] = {}
        self.regional_dns: dict[str, str] | None = None
        self.private_dns_entries: list[dict[str, str]] = []
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def state(self) -> str:
        if self._deleted_at is not None:
            return "deleted"
        if time.monotonic() < self._created + self._pending_for:
            return "pending"
        return "available"

    @state.setter
    def state(self, value: str) -> None:
        # moto's constructor assigns "available"; the state is derived from the clock instead.
        pass

    def mark_deleted(self, visible_for: float) -> None:
        self._deleted_at = time.monotonic()
        self._deleted_visible_for = float(visible_for)

    @property
    def is_deleted(self) -> bool:
        return self._deleted_at is not None

    def expired(self) -> bool:
        return self._deleted_at is not None and time.monotonic() >= self._deleted_at + self._deleted_visible_for

    def get_tags(self) -> list[dict[str, str]]:
        tags = self.ec2_backend.tags.get(self.id, {})
        return [
            {"resource_id": self.id, "resource_type": "vpc-endpoint", "key": k, "value": v}
            for k, v in tags.items()
        ]

    def tag_pairs(self) -> list[dict[str, str]]:
        return [{"Key": k, "Value": v} for k, v in self.ec2_backend.tags.get(self.id, {}).items()]


# ---------------------------------------------------------------------------------------------
# service catalogue


def _services(backend: Any, region: str) -> dict[str, dict[str, Any]]:
    """Service name -> {types, base dns names, private dns name} from DescribeVpcEndpointServices."""
    defaults = backend._collect_default_endpoint_services(backend.account_id, region)
    custom = [c.to_dict() for c in getattr(backend, "configurations", {}).values()]
    result: dict[str, dict[str, Any]] = {}
    for svc in list(defaults) + custom:
        name = svc.get("ServiceName")
        if not name:
            continue
        entry = result.setdefault(name, {"types": [], "base": [], "private": None})
        for st in svc.get("ServiceType") or []:
            value = st.get("ServiceType") if isinstance(st, dict) else st
            if value and value not in entry["types"]:
                entry["types"].append(value)
        for base in svc.get("BaseEndpointDnsNames") or []:
            if base not in entry["base"]:
                entry["base"].append(base)
        if svc.get("PrivateDnsName") and not entry["private"]:
            entry["private"] = svc["PrivateDnsName"]
    return result


def _zone_id(seed: str, length: int = 13) -> str:
    digest = hashlib.sha256(seed.encode()).hexdigest().upper()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "Z" + "".join(alphabet[int(digest[i : i + 2], 16) % len(alphabet)] for i in range(0, 2 * (length - 1), 2))


def _rand_suffix(n: int = 8) -> str:
    return "".join(mock_random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


# ---------------------------------------------------------------------------------------------
# helpers over moto's EC2 backend


def _vpc_dns_ok(vpc: Any) -> bool:
    return _truthy(vpc.enable_dns_support) and _truthy(vpc.enable_dns_hostnames)


def _subnet(backend: Any, subnet_id: str, vpc_id: str) -> Any:
    subnet = backend.get_subnet(subnet_id)  # InvalidSubnetID.NotFound
    if subnet.vpc_id != vpc_id:
        raise _invalid_parameter(f"The subnet ID '{subnet_id}' does not belong to the VPC '{vpc_id}'")
    return subnet


def _security_group(backend: Any, group_id: str) -> Any:
    group = backend.get_security_group_from_id(group_id)
    if group is None:
        raise _error("InvalidGroup.NotFound", f"The security group '{group_id}' does not exist")
    return group


def _route_table(backend: Any, rt_id: str, vpc_id: str) -> Any:
    table = backend.get_route_table(rt_id)  # InvalidRouteTableID.NotFound
    if table.vpc_id != vpc_id:
        raise _invalid_parameter(f"The route table '{rt_id}' does not belong to the VPC '{vpc_id}'")
    return table


def _prefix_list_id(backend: Any, service_name: str) -> str | None:
    for prefix_list in backend.managed_prefix_lists.values():
        if prefix_list.prefix_list_name == service_name:
            return prefix_list.id
    return None


def _add_gateway_route(backend: Any, endpoint: Endpoint, rt_id: str) -> None:
    prefix_list = endpoint.destination_prefix_list_id
    if not prefix_list:
        return
    table = backend.get_route_table(rt_id)
    for route in table.routes:
        if route.destination_prefix_list is not None and route.destination_prefix_list.id == prefix_list:
            raise _error(
                "RouteAlreadyExists",
                f"route table {rt_id} already has a route with destination-prefix-list-id {prefix_list}",
            )
    backend.create_route(rt_id, None, gateway_id=endpoint.id, destination_prefix_list_id=prefix_list)


def _remove_gateway_route(backend: Any, endpoint: Endpoint, rt_id: str) -> None:
    prefix_list = endpoint.destination_prefix_list_id
    if not prefix_list:
        return
    table = backend.route_tables.get(rt_id)
    if table is None:
        return
    for key, route in list(table._routes.items()):
        if (
            route.destination_prefix_list is not None
            and route.destination_prefix_list.id == prefix_list
            and route.gateway_id == endpoint.id
        ):
            table._routes.pop(key, None)


def _create_eni(backend: Any, endpoint: Endpoint, subnet: Any) -> str:
    try:
        ip = random_private_ip(subnet.cidr_block)
    except Exception:  # noqa: BLE001 - an odd CIDR must not fail the call
        ip = random_private_ip()
    eni = backend.create_network_interface(
        subnet,
        ip,
        group_ids=list(endpoint.security_group_ids),
        description=f"VPC Endpoint Interface {endpoint.id}",
    )
    for attr, value in (("interface_type", "vpc_endpoint"), ("requester_managed", True)):
        try:
            setattr(eni, attr, value)
        except Exception:  # noqa: BLE001
            pass
    return eni.id


def _zone_entry(endpoint: Endpoint, zone: str) -> str:
    name = endpoint.zone_dns.get(zone)
    if name is None and endpoint.regional_dns is not None:
        regional = endpoint.regional_dns["DnsName"]
        prefix, _, rest = regional.partition(".")
        name = f"{prefix}-{zone}.{rest}"
        endpoint.zone_dns[zone] = name
    return name or ""


def _rebuild_dns(backend: Any, endpoint: Endpoint, service: dict[str, Any], region: str) -> None:
    if (endpoint.vpc_endpoint_type or "").lower() != "interface":
        endpoint.dns_entries = []
        return
    base = service["base"][0] if service["base"] else f"{endpoint.service_name}.vpce.amazonaws.com"
    if endpoint.regional_dns is None:
        endpoint.regional_dns = {
            "DnsName": f"{endpoint.id}-{_rand_suffix()}.{base}",
            "HostedZoneId": _zone_id(f"vpce:{region}"),
        }
    entries = [dict(endpoint.regional_dns)]
    zones: list[str] = []
    for subnet_id in endpoint.subnet_ids or []:
        try:
            zone = backend.get_subnet(subnet_id).availability_zone
        except Exception:  # noqa: BLE001
            continue
        if zone not in zones:
            zones.append(zone)
    for zone in sorted(zones):
        entries.append({"DnsName": _zone_entry(endpoint, zone), "HostedZoneId": endpoint.regional_dns["HostedZoneId"]})
    if endpoint.private_dns_enabled and service.get("private"):
        if not endpoint.private_dns_entries:
            endpoint.private_dns_entries = [
                {"DnsName": service["private"], "HostedZoneId": _zone_id(f"phz:{endpoint.id}", 21)}
            ]
        entries.extend(dict(e) for e in endpoint.private_dns_entries)
    endpoint.dns_entries = entries


def _check_private_dns_conflict(backend: Any, vpc_id: str, service: dict[str, Any], own_id: str | None) -> None:
    private = service.get("private")
    if not private:
        return
    for other in backend.vpc_end_points.values():
        if other.id == own_id or other.vpc_id != vpc_id:
            continue
        if isinstance(other, Endpoint) and other.is_deleted:
            continue
        if other.private_dns_enabled and (other.vpc_endpoint_type or "").lower() == "interface":
            if other.dns_entries and any(e.get("DnsName") == private for e in other.dns_entries):
                raise _invalid_parameter(
                    f"private-dns-enabled cannot be set because there is already a conflicting DNS "
                    f"domain for {private} in the VPC {vpc_id}"
                )


def _purge_expired(backend: Any) -> None:
    for endpoint_id, endpoint in list(backend.vpc_end_points.items()):
        if isinstance(endpoint, Endpoint) and endpoint.expired():
            backend.vpc_end_points.pop(endpoint_id, None)
            backend.tags.pop(endpoint_id, None)


def _visible(backend: Any) -> list[Any]:
    _purge_expired(backend)
    endpoints = list(backend.vpc_end_points.values())
    endpoints.sort(key=lambda e: getattr(e, "seq", 0))
    return endpoints


def _get(backend: Any, endpoint_id: str) -> Any:
    _purge_expired(backend)
    endpoint = backend.vpc_end_points.get(endpoint_id)
    if endpoint is None:
        raise _not_found(endpoint_id)
    return endpoint


# ---------------------------------------------------------------------------------------------
# wire representation


def _groups(backend: Any, endpoint: Any) -> list[dict[str, str]]:
    result = []
    for group_id in endpoint.security_group_ids or []:
        group = backend.get_security_group_from_id(group_id)
        result.append({"GroupId": group_id, "GroupName": group.name if group else group_id})
    return result


def _tags(backend: Any, endpoint: Any) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in backend.tags.get(endpoint.id, {}).items()]


def _to_wire(backend: Any, endpoint: Any) -> dict[str, Any]:
    etype = endpoint.vpc_endpoint_type or "Gateway"
    interface = etype.lower() == "interface"
    item: dict[str, Any] = {
        "VpcEndpointId": endpoint.id,
        "VpcEndpointType": etype,
        "VpcId": endpoint.vpc_id,
        "ServiceName": endpoint.service_name,
        "State": endpoint.state,
        "PolicyDocument": endpoint.policy_document,
        "RouteTableIds": list(endpoint.route_table_ids or []),
        "SubnetIds": list(endpoint.subnet_ids or []),
        "Groups": _groups(backend, endpoint) if interface else [],
        "IpAddressType": getattr(endpoint, "ip_address_type", "ipv4"),
        "PrivateDnsEnabled": bool(endpoint.private_dns_enabled) if interface else False,
        "RequesterManaged": False,
        "NetworkInterfaceIds": list(endpoint.network_interface_ids or []) if interface else [],
        "DnsEntries": [dict(e) for e in (endpoint.dns_entries or [])] if interface else [],
        "CreationTimestamp": endpoint.creation_timestamp,
        "Tags": _tags(backend, endpoint),
        "OwnerId": backend.account_id,
    }
    if interface:
        item["DnsOptions"] = {"DnsRecordIpType": "ipv4"}
    region = getattr(endpoint, "service_region", None)
    if region:
        item["ServiceRegion"] = region
    return item


# ---------------------------------------------------------------------------------------------
# filters and paging


def _filter_value(backend: Any, endpoint: Any, name: str) -> Any:
    """The value of the endpoint's field that filter ``name`` (not a tag filter) compares."""
    if name == "vpc-id":
        return endpoint.vpc_id
    if name == "service-name":
        return endpoint.service_name
    if name == "vpc-endpoint-id":
        return endpoint.id
    if name == "vpc-endpoint-state":
        return endpoint.state
    if name == "vpc-endpoint-type":
        return endpoint.vpc_endpoint_type or "Gateway"
    if name == "ip-address-type":
        return getattr(endpoint, "ip_address_type", "ipv4")
    if name == "service-region":
        return getattr(endpoint, "service_region", None) or backend.region_name
    return None


def _list_param(response: Any, name: str) -> list[Any]:
    """The list parameter ``name`` of the request (empty when absent)."""
    return list(response._get_param(name, []) or [])


def _invalid_value(message: str) -> EC2ClientError:
    return _error("InvalidParameterValue", message)


def _encode_token(seq: int) -> str:
    """A NextToken: the page after the endpoint created as number ``seq``."""
    return encode_token({"after": seq})


def _decode_token(token: str) -> int:
    return decode_token(
        token,
        lambda: _error("InvalidNextToken", f"The token '{token}' is invalid"),
        lambda data: int(data["after"]),
    )


def _mismatch(_endpoint_id: str) -> EC2ClientError:
    return _error(
        "IdempotentParameterMismatch",
        "The request uses the same client token as a previous, but non-identical "
        "request. Do not reuse a client token with different requests, unless the "
        "requests are identical.",
    )


# ---------------------------------------------------------------------------------------------
# operations


def create_vpc_endpoint(self: Any) -> ActionResult:
    self.error_on_dryrun()
    backend = self.ec2_backend
    region = self.region
    vpc_id = self._get_param("VpcId")
    service_name = self._get_param("ServiceName")
    requested_type = self._get_param("VpcEndpointType") or "Gateway"
    route_table_ids = _list_param(self, "RouteTableIds")
    subnet_ids = _list_param(self, "SubnetIds")
    security_group_ids = _list_param(self, "SecurityGroupIds")
    policy_document = self._get_param("PolicyDocument")
    client_token = self._get_param("ClientToken")
    private_dns_param = self._get_bool_param("PrivateDnsEnabled")
    ip_address_type = self._get_param("IpAddressType") or "ipv4"
    service_region = self._get_param("ServiceRegion")
    tag_specs = self._get_param("TagSpecifications", []) or []

    tags = tag_specifications(tag_specs, "vpc-endpoint", _invalid_value)

    if not vpc_id:
        raise _error("MissingParameter", "The request must contain the parameter VpcId")
    if not service_name:
        raise _error("MissingParameter", "The request must contain the parameter ServiceName")

    request = fingerprint(
        {
            "VpcId": vpc_id,
            "ServiceName": service_name,
            "VpcEndpointType": requested_type,
            "RouteTableIds": sorted(route_table_ids),
            "SubnetIds": sorted(subnet_ids),
            "SecurityGroupIds": sorted(security_group_ids),
            "PolicyDocument": policy_document,
            "PrivateDnsEnabled": private_dns_param,
            "IpAddressType": ip_address_type,
            "ServiceRegion": service_region,
            "Tags": sorted(tags.items()),
        }
    )

    with _LOCK:
        state = _state(backend)
        if client_token:
            first = state.tokens.recall(client_token, request, ttl=None, mismatch=_mismatch)
            existing = backend.vpc_end_points.get(first) if first is not None else None
            if existing is not None:
                return ActionResult({"VpcEndpoint": _to_wire(backend, existing), "ClientToken": client_token})

        vpc = backend.get_vpc(vpc_id)  # InvalidVpcID.NotFound
        catalogue = _services(backend, region)
        service = catalogue.get(service_name)
        if service is None:
            raise _error("InvalidServiceName", f"The Vpc Endpoint Service '{service_name}' does not exist")
        endpoint_type = _TYPE_NAMES.get(requested_type.lower(), requested_type)
        if endpoint_type not in service["types"]:
            available = ", ".join(service["types"])
            raise _invalid_parameter(
                f"Endpoint type ({endpoint_type}) does not match available service types ([{available}])."
            )
        interface = endpoint_type == "Interface"

        if interface:
            if route_table_ids:
                raise _invalid_parameter("Route table IDs are not supported for Interface endpoints.")
            zones: dict[str, str] = {}
            subnets = []
            for subnet_id in subnet_ids:
                subnet = _subnet(backend, subnet_id, vpc_id)
                other = zones.get(subnet.availability_zone)
                if other is not None and other != subnet_id:
                    raise _invalid_parameter(
                        f"Found another VPC endpoint subnet in the availability zone of {subnet_id}. "
                        "VPC endpoint subnets should be in different availability zones supported by "
                        "the VPC endpoint service."
                    )
                zones[subnet.availability_zone] = subnet_id
                subnets.append(subnet)
            if not security_group_ids:
                default_group = backend.get_security_group_by_name_or_id("default", vpc_id)
                if default_group is not None:
                    security_group_ids = [default_group.id]
            for group_id in security_group_ids:
                _security_group(backend, group_id)
            private_dns = True if private_dns_param is None else bool(private_dns_param)
            if private_dns and not _vpc_dns_ok(vpc):
                raise _invalid_parameter(
                    "Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC "
                    f"attributes set to true for {vpc_id}"
                )
            if private_dns:
                _check_private_dns_conflict(backend, vpc_id, service, None)
        else:
            if subnet_ids:
                raise _invalid_parameter("Subnet IDs are not supported for Gateway endpoints.")
            if security_group_ids:
                raise _invalid_parameter("Security group IDs are not supported for Gateway endpoints.")
            for rt_id in route_table_ids:
                _route_table(backend, rt_id, vpc_id)
            private_dns = False
            subnets = []

        state.seq += 1
        endpoint_id = random_vpc_ep_id()
        endpoint = Endpoint(
            backend,
            endpoint_id,
            vpc_id,
            service_name,
            endpoint_type,
            policy_document,
            list(route_table_ids),
            list(subnet_ids),
            [],
            dns_entries=[],
            client_token=client_token,
            security_group_ids=list(security_group_ids),
            tags=None,
            private_dns_enabled=private_dns,
            destination_prefix_list_id=None if interface else _prefix_list_id(backend, service_name),
            pending_for=float(settings.get(backend.account_id, "ec2.vpc_endpoint_pending", 0) or 0),
            seq=state.seq,
        )
        endpoint.ip_address_type = ip_address_type
        endpoint.service_region = service_region
        endpoint.creation_timestamp = utcnow()
        # moto resolves a route's vpce- gateway through this table, so register before routing.
        backend.vpc_end_points[endpoint_id] = endpoint
        if not interface:
            added: list[str] = []
            try:
                for rt_id in route_table_ids:
                    _add_gateway_route(backend, endpoint, rt_id)
                    added.append(rt_id)
            except Exception:
                for rt_id in added:
                    _remove_gateway_route(backend, endpoint, rt_id)
                backend.vpc_end_points.pop(endpoint_id, None)
                raise
        if tags:
            backend.create_tags([endpoint_id], tags)
        if interface:
            endpoint.network_interface_ids = [_create_eni(backend, endpoint, s) for s in subnets]
            _rebuild_dns(backend, endpoint, service, region)
        if client_token:
            state.tokens.remember(client_token, request, endpoint_id)
        result: dict[str, Any] = {"VpcEndpoint": _to_wire(backend, endpoint)}
        if client_token:
            result["ClientToken"] = client_token
        return ActionResult(result)


def describe_vpc_endpoints(self: Any) -> ActionResult:
    self.error_on_dryrun()
    backend = self.ec2_backend
    ids = _list_param(self, "VpcEndpointIds")
    filters = parse_filters(self, _SUPPORTED_FILTERS, _invalid_value)
    max_results = self._get_int_param("MaxResults")
    next_token = self._get_param("NextToken")
    if max_results is not None and max_results < MIN_MAX_RESULTS:
        raise _error(
            "InvalidParameterValue",
            f"Value ( {max_results} ) for parameter maxResults is invalid. Expecting a value greater than 5.",
        )
    with _LOCK:
        endpoints = _visible(backend)
        endpoints = named(endpoints, ids, _not_found)
        endpoints = filtered(
            endpoints,
            filters,
            lambda e: backend.tags.get(e.id, {}),
            lambda e, name: _filter_value(backend, e, name),
        )
        if next_token:
            after = _decode_token(next_token)
            endpoints = [e for e in endpoints if getattr(e, "seq", 0) > after]
        token = None
        if max_results is not None or next_token:
            limit = min(max_results or MAX_RESULTS_CAP, MAX_RESULTS_CAP)
            if len(endpoints) > limit:
                endpoints = endpoints[:limit]
                token = _encode_token(getattr(endpoints[-1], "seq", 0))
        result: dict[str, Any] = {"VpcEndpoints": [_to_wire(backend, e) for e in endpoints]}
        if token:
            result["NextToken"] = token
        return ActionResult(result)


def modify_vpc_endpoint(self: Any) -> ActionResult:
    self.error_on_dryrun()
    backend = self.ec2_backend
    region = self.region
    endpoint_id = self._get_param("VpcEndpointId")
    add_subnets = _list_param(self, "AddSubnetIds")
    remove_subnets = _list_param(self, "RemoveSubnetIds")
    add_rts = _list_param(self, "AddRouteTableIds")
    remove_rts = _list_param(self, "RemoveRouteTableIds")
    add_sgs = _list_param(self, "AddSecurityGroupIds")
    remove_sgs = _list_param(self, "RemoveSecurityGroupIds")
    policy = self._get_param("PolicyDocument")
    reset_policy = self._get_bool_param("ResetPolicy")
    private_dns = self._get_bool_param("PrivateDnsEnabled")
    ip_address_type = self._get_param("IpAddressType")
    with _LOCK:
        endpoint = _get(backend, endpoint_id)
        if isinstance(endpoint, Endpoint) and endpoint.is_deleted:
            raise _error(
                "IncorrectState",
                f"The VPC endpoint {endpoint_id} is in the deleted state and cannot be modified.",
            )
        interface = (endpoint.vpc_endpoint_type or "").lower() == "interface"
        vpc = backend.get_vpc(endpoint.vpc_id)
        service = _services(backend, region).get(endpoint.service_name, {"types": [], "base": [], "private": None})
        if reset_policy and policy:
            raise _error(
                "InvalidParameterCombination",
                "The parameters PolicyDocument and ResetPolicy cannot be used together.",
            )

        # validate everything before changing anything
        new_subnets = []
        for subnet_id in add_subnets:
            if subnet_id in (endpoint.subnet_ids or []):
                continue
            new_subnets.append(_subnet(backend, subnet_id, endpoint.vpc_id))
        for group_id in add_sgs:
            _security_group(backend, group_id)
        for rt_id in add_rts:
            _route_table(backend, rt_id, endpoint.vpc_id)
        if interface and new_subnets:
            zones = {}
            for subnet_id in endpoint.subnet_ids or []:
                if subnet_id in remove_subnets:
                    continue
                zones[backend.get_subnet(subnet_id).availability_zone] = subnet_id
            for subnet in new_subnets:
                if subnet.availability_zone in zones:
                    raise _invalid_parameter(
                        f"Found another VPC endpoint subnet in the availability zone of {subnet.id}. "
                        "VPC endpoint subnets should be in different availability zones supported by "
                        "the VPC endpoint service."
                    )
                zones[subnet.availability_zone] = subnet.id
        if private_dns is True and interface and not endpoint.private_dns_enabled:
            if not _vpc_dns_ok(vpc):
                raise _invalid_parameter(
                    "Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC "
                    f"attributes set to true for {endpoint.vpc_id}"
                )
            _check_private_dns_conflict(backend, endpoint.vpc_id, service, endpoint.id)

        if policy:
            endpoint.policy_document = policy
        if reset_policy:
            endpoint.policy_document = DEFAULT_POLICY
        if ip_address_type:
            endpoint.ip_address_type = ip_address_type

        if interface:
            for group_id in add_sgs:
                if group_id not in endpoint.security_group_ids:
                    endpoint.security_group_ids.append(group_id)
            endpoint.security_group_ids = [g for g in endpoint.security_group_ids if g not in remove_sgs]
            enis = dict(zip(list(endpoint.subnet_ids or []), list(endpoint.network_interface_ids or [])))
            for subnet_id in remove_subnets:
                eni_id = enis.pop(subnet_id, None)
                if eni_id:
                    backend.enis.pop(eni_id, None)
            endpoint.subnet_ids = [s for s in (endpoint.subnet_ids or []) if s not in remove_subnets]
            for subnet in new_subnets:
                endpoint.subnet_ids.append(subnet.id)
                enis[subnet.id] = _create_eni(backend, endpoint, subnet)
            endpoint.network_interface_ids = [enis[s] for s in endpoint.subnet_ids if s in enis]
            for eni_id in endpoint.network_interface_ids:
                eni = backend.enis.get(eni_id)
                if eni is not None:
                    try:
                        eni._group_set = [backend.get_security_group_from_id(g) for g in endpoint.security_group_ids]
                    except Exception:  # noqa: BLE001
                        pass
            if private_dns is not None:
                endpoint.private_dns_enabled = bool(private_dns)
                if not private_dns:
                    endpoint.private_dns_entries = []
            _rebuild_dns(backend, endpoint, service, region)
        else:
            for rt_id in add_rts:
                if rt_id not in endpoint.route_table_ids:
                    _add_gateway_route(backend, endpoint, rt_id)
                    endpoint.route_table_ids.append(rt_id)
            for rt_id in remove_rts:
                if rt_id in endpoint.route_table_ids:
                    _remove_gateway_route(backend, endpoint, rt_id)
            endpoint.route_table_ids = [r for r in endpoint.route_table_ids if r not in remove_rts]
        return ActionResult({"Return": True})


def delete_vpc_endpoints(self: Any) -> ActionResult:
    self.error_on_dryrun()
    backend = self.ec2_backend
    ids = _list_param(self, "VpcEndpointIds")
    unsuccessful = []
    with _LOCK:
        _purge_expired(backend)
        visible_for = float(settings.get(backend.account_id, "ec2.vpc_endpoint_deleted_visible", 0) or 0)
        for endpoint_id in ids:
            endpoint = backend.vpc_end_points.get(endpoint_id)
            if endpoint is None or (isinstance(endpoint, Endpoint) and endpoint.is_deleted):
                unsuccessful.append(
                    {
                        "ResourceId": endpoint_id,
                        "Error": {
                            "Code": "InvalidVpcEndpoint.NotFound",
                            "Message": f"The Vpc Endpoint Id '{endpoint_id}' does not exist",
                        },
                    }
                )
                continue
            if (endpoint.vpc_endpoint_type or "").lower() == "interface":
                for eni_id in endpoint.network_interface_ids or []:
                    backend.enis.pop(eni_id, None)
            else:
                for rt_id in endpoint.route_table_ids or []:
                    _remove_gateway_route(backend, endpoint, rt_id)
            if isinstance(endpoint, Endpoint):
                endpoint.mark_deleted(visible_for)
            else:
                endpoint.state = "deleted"
        _purge_expired(backend)
    return ActionResult({"Unsuccessful": unsuccessful})


def install() -> None:
    install_handlers(
        EC2Response,
        create_vpc_endpoint,
        describe_vpc_endpoints,
        modify_vpc_endpoint,
        delete_vpc_endpoints,
    )
