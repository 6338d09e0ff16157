"""Classic ECS services as the AWS API reference describes them: ListServices paging,
Service Connect, idempotent CreateService, awsvpc without security groups.

Stock moto ignores ``maxResults``/``nextToken`` on ``ListServices``, drops
``serviceConnectConfiguration``, never rolls a deployment and fails with HTTP 500 when an awsvpc
configuration has no ``securityGroups``. This module patches methods of moto's ECS response class and of its
``Service`` model; its state lives on moto's own service objects, so ``/moto-api/reset`` wipes it.

- ``ListServices`` pages (``maxResults`` 1..100, 10 by default, opaque ``nextToken``), filters on
  ``resourceManagementType`` and, as AWS, leaves ``INACTIVE`` services out.
- Express services (``ecs_express``) are ECS services too and read ``resourceManagementType``
  ``ECS``; every other service reads ``CUSTOMER``. ``DescribeServices``, ``DescribeClusters``,
  ``DescribeTasks`` and ``DescribeTaskSets`` see them as their Express deployments have left
  them. ``DeleteService`` of an Express service deletes it as ``DeleteExpressGatewayService``
  does.
- ``CreateService``/``UpdateService`` take ``serviceConnectConfiguration`` as the API reference
  describes it and keep it in the deployment they start (see ``ecs_deployments``: a new
  ``PRIMARY`` deployment, ``IN_PROGRESS`` then ``COMPLETED``, or ``FAILED`` and rolled back).
  The namespace (the configuration's, else the cluster's ``serviceConnectDefaults``) must be
  visible to the calling account in the Region: an own Cloud Map namespace by name or ARN, or
  one another account shares with it through RAM with the managed permission
  ``AWSRAMPermissionCloudMapECSFullPermission``, by ARN; otherwise the call fails with
  ``NamespaceNotFoundException`` ``The specified namespace wasn't found.``. Any namespace type
  will do ("The type of namespace doesn't affect Service Connect"). ECS keeps the namespace as
  its ARN, fills ``discoveryName`` (default ``portName``) and ``dnsName`` (default
  ``discoveryName.namespace``), checks that every ``portName`` names a port mapping of the task
  definition and allows at most one client alias per service; ``serviceConnectResources``
  names the Cloud Map service ECS creates in the namespace for each discovery name (owned by
  the calling account, tagged ``AmazonECSManaged=true``). An ``UpdateService`` without
  ``serviceConnectConfiguration`` keeps the current one. ``UpdateService`` of a service that is
  not ``ACTIVE`` is ``ServiceNotActiveException`` ``Service was not ACTIVE.``.
- ``DescribeServices`` takes 1 to 10 services (``Services cannot be empty.``, ``service names
  can have at most 10 items.``); unknown ones are ``failures`` with reason ``MISSING``; tags
  only with ``include: [TAGS]``. ``TagResource``/``UntagResource`` of an unknown service are
  ``ResourceNotFoundException``.
- A second ``CreateService`` of an active name fails with ``Creation of service was not
  idempotent.`` unless it repeats the ``clientToken`` of the first.
- Services read back ``createdAt``, and an awsvpc configuration without ``securityGroups`` is
  accepted (``assignPublicIp`` defaults to ``DISABLED``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ec2.models import ec2_backends
from moto.ecs.models import Cluster, Service
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.moto_api._internal import mock_random

from . import ecs_deployments as deployments
from .common import decode_token, encode_token
from .ecs_common import LOCK, EcsError, invalid, invalid_token
from .ecs_express import delete_express, express_service, tick


def _tick(backend: Any) -> None:
    """Apply what time has done: Express services (``ecs_express``), then the deployments of
    classic services (``ecs_deployments``)."""
    tick(backend)
    deployments.sync_all(backend)

# ---------------------------------------------------------------------------------------------
# regular services: paging, resourceManagementType, Service Connect, awsvpc without groups


def _encode_after(arn: str) -> str:
    """A nextToken of ListServices: the services whose ARN sorts after ``arn``."""
    return encode_token({"after": arn})


def _decode_after(token: str) -> str:
    return decode_token(token, invalid_token, lambda data: str(data["after"]))


def list_services(self: Any) -> ActionResult:
    backend = self.ecs_backend
    cluster_ref = self._get_param("cluster") or "default"
    launch_type = self._get_param("launchType")
    scheduling = self._get_param("schedulingStrategy")
    management = self._get_param("resourceManagementType")
    max_results = self._get_param("maxResults")
    token = self._get_param("nextToken")
    if max_results is not None and not 1 <= int(max_results) <= 100:
        raise invalid("maxResults must be between 1 and 100.")
    if management is not None and management not in ("CUSTOMER", "ECS"):
        raise invalid(f"Invalid resourceManagementType {management}. Valid values: CUSTOMER, ECS.")
    with LOCK:
        _tick(backend)
        cluster = backend._get_cluster(cluster_ref)
        arns = []
        for service in backend.services.values():
            if service.cluster_name != cluster.name or service.status == "INACTIVE":
                continue
            if launch_type is not None and service.launch_type != launch_type:
                continue
            if scheduling is not None and service.scheduling_strategy != scheduling:
                continue
            if management is not None and getattr(service, "resource_management_type", "CUSTOMER") != management:
                continue
            arns.append(service.arn)
        arns.sort()
        if token:
            after = _decode_after(token)
            arns = [a for a in arns if a > after]
        limit = int(max_results) if max_results is not None else 10
        result: dict[str, Any] = {"serviceArns": arns[:limit]}
        if len(arns) > limit:
            result["nextToken"] = _encode_after(arns[limit - 1])
        return ActionResult(result)


def _own_transformers(response: Any) -> None:
    # moto keeps the include/exclude switches in a class-level dict; give each request its own copy
    # so that concurrent requests with and without include=TAGS do not see each other's choice.
    response.RESPONSE_KEY_PATH_TO_TRANSFORMER = dict(type(response).RESPONSE_KEY_PATH_TO_TRANSFORMER)


def _wrap_describe(original: Any) -> Any:
    def wrapper(self: Any) -> ActionResult:
        _own_transformers(self)
        with LOCK:
            _tick(self.ecs_backend)
            return original(self)

    wrapper.__name__ = original.__name__
    return wrapper


NAMESPACE_NOT_FOUND = "The specified namespace wasn't found."
# ServiceConnectService.discoveryName and ServiceConnectClientAlias.dnsName as the API
# reference describes them.
_DISCOVERY_NAME_RE = re.compile(r"^[a-z0-9_][a-z0-9_-]{0,63}$")
_DNS_NAME_RE = re.compile(r"^[a-z0-9_.][a-z0-9_.-]{0,126}$")
MAX_DESCRIBE = 10


def _shared_with_ecs_permission(account: str, region: str, arn: str) -> bool:
    """Whether an ACTIVE share that reaches ``account`` associates the namespace ``arn`` with the
    managed permission ``AWSRAMPermissionCloudMapECSFullPermission`` for namespaces."""
    from . import ram

    with ram._lock:
        for share in ram._other_accounts_shares(account, region):
            ext = ram._ext(share)
            record = ext["assoc"].get(("RESOURCE", arn))
            if record is None or not ram._active(record):
                continue
            permission = ext["permissions"].get(ram.CLOUD_MAP_TYPE.lower())
            if permission is not None and permission["arn"] == ram.CLOUD_MAP_PERMISSION_ARN:
                return True
    return False


def _visible_namespace(account: str, region: str, ident: str) -> Any:
    """The Cloud Map namespace ``ident`` names for ECS in ``account``: an own namespace by name
    or ARN, or one shared with the account by ARN through RAM with the Cloud Map ECS permission.
    Anything else (another Region, unknown, not shared, shared without that permission) is
    ``NamespaceNotFoundException``."""
    from . import servicediscovery

    found = servicediscovery.resolve_namespace(account, region, ident)
    if found is not None:
        owner, ns = found
        if owner == account and ident in (ns.name, ns.arn):
            return ns
        if owner != account and _shared_with_ecs_permission(account, region, ns.arn):
            return ns
    raise EcsError("NamespaceNotFoundException", NAMESPACE_NOT_FOUND)


def _port_names(backend: Any, task_definition: str | None) -> set[str] | None:
    """The names of the port mappings of a task definition (``None`` when it is not known)."""
    if not task_definition:
        return None
    try:
        td = backend.describe_task_definition(task_definition)
    except Exception:  # noqa: BLE001 - moto answers the unknown task definition itself
        return None
    names = set()
    for container in td.container_definitions or []:
        for mapping in container.get("portMappings") or []:
            if mapping.get("name"):
                names.add(mapping["name"])
    return names


def _service_connect(backend: Any, config: dict[str, Any] | None, cluster: Cluster, task_definition: str | None) -> tuple[dict[str, Any] | None, Any]:
    """The Service Connect configuration as ECS keeps it, and the namespace it joins.

    Validates as the API reference describes: ``enabled`` required; a namespace (given or the
    cluster's ``serviceConnectDefaults``) visible to the account; every ``portName`` a named port
    mapping of the task definition; ``discoveryName`` (default ``portName``) unique in the
    configuration; at most one client alias, whose ``port`` is required and whose ``dnsName``
    defaults to ``discoveryName.namespace``. The namespace reads back as its ARN.
    """
    if config is None:
        return None, None
    if config.get("enabled") is None:
        raise invalid("serviceConnectConfiguration.enabled can not be null.")
    result = json.loads(json.dumps(config, default=str))
    if not result.get("enabled"):
        return result, None
    namespace = result.get("namespace") or (cluster.service_connect_defaults or {}).get("namespace")
    if not namespace:
        raise invalid("Service Connect requires a namespace: set serviceConnectConfiguration.namespace or the cluster's serviceConnectDefaults.")
    ns = _visible_namespace(backend.account_id, backend.region_name, namespace)
    result["namespace"] = ns.arn
    ports = _port_names(backend, task_definition)
    seen: set[str] = set()
    for entry in result.get("services") or []:
        port_name = entry.get("portName")
        if not port_name:
            raise invalid("serviceConnectConfiguration.services.portName can not be null or empty.")
        if ports is not None and port_name not in ports:
            raise invalid(
                f"The portName {port_name} of serviceConnectConfiguration.services does not match the name of "
                "a portMapping in the task definition."
            )
        discovery = entry.get("discoveryName") or port_name
        if not _DISCOVERY_NAME_RE.match(discovery):
            raise invalid(f"Invalid discoveryName {discovery}.")
        if discovery in seen:
            raise invalid(f"The discoveryName {discovery} is used more than once in serviceConnectConfiguration.services.")
        seen.add(discovery)
        entry["discoveryName"] = discovery
        aliases = entry.get("clientAliases") or []
        if len(aliases) > 1:
            raise invalid("serviceConnectConfiguration.services.clientAliases can have at most 1 items.")
        for alias in aliases:
            port = alias.get("port")
            if port is None:
                raise invalid("serviceConnectConfiguration.services.clientAliases.port can not be null.")
            if not 0 <= int(port) <= 65535:
                raise invalid(f"Invalid clientAliases port {port}: the port must be between 0 and 65535.")
            dns_name = alias.get("dnsName") or f"{discovery}.{ns.name}"
            if not _DNS_NAME_RE.match(dns_name):
                raise invalid(f"Invalid clientAliases dnsName {dns_name}.")
            alias["dnsName"] = dns_name
    return result, ns


def _provision(backend: Any, config: dict[str, Any] | None, ns: Any) -> list[dict[str, str]]:
    """The Cloud Map services ECS creates (or finds) in the namespace, one per discovery name,
    owned by the calling account also in a shared namespace."""
    if not config or ns is None:
        return []
    from moto.servicediscovery.models import servicediscovery_backends

    sd = servicediscovery_backends[backend.account_id][backend.region_name]
    resources = []
    for entry in config.get("services") or []:
        discovery = entry["discoveryName"]
        existing = None
        for candidate in list(sd.services.values()):
            if candidate.name == discovery and candidate.namespace_id == ns.id:
                existing = candidate
        if existing is None:
            existing = sd.create_service(
                name=discovery,
                namespace_id=ns.id,
                creator_request_id=str(mock_random.uuid4()),
                description="Managed by Amazon ECS",
                dns_config=None,
                health_check_config=None,
                health_check_custom_config=None,
                tags=[{"Key": "AmazonECSManaged", "Value": "true"}],
                service_type="HTTP",
            )
        resources.append({"discoveryName": discovery, "discoveryArn": existing.arn})
    return resources


def _task_definition_arn(backend: Any, service: Service, requested: str | None) -> None:
    """moto keeps the ``taskDefinition`` of UpdateService as sent; ECS answers its ARN."""
    if requested:
        try:
            service.task_definition = backend.describe_task_definition(requested).arn
        except Exception:  # noqa: BLE001 - moto already refused an unknown one
            pass


def _locked(handle: Callable[[Any, Any], ActionResult]) -> Any:
    """A handler named as ``handle`` is that answers ``handle(self, backend)`` under the ECS lock,
    after what time has done to the backend is applied."""

    def handler(self: Any) -> ActionResult:
        backend = self.ecs_backend
        with LOCK:
            _tick(backend)
            return handle(self, backend)

    handler.__name__ = handle.__name__
    return handler


def _named_service(self: Any, backend: Any) -> tuple[Cluster, Service | None]:
    """The cluster and the service (``None``: unknown) that UpdateService or DeleteService names;
    ``service`` is a name or an ARN."""
    cluster = backend._get_cluster(self._get_param("cluster") or "default")
    name = (self._get_param("service") or "").split("/")[-1]
    return cluster, backend.services.get(f"{cluster.name}:{name}")


def _wrap_create_service(original: Any) -> Any:
    def create_service(self: Any, backend: Any) -> ActionResult:
        cluster = backend._get_cluster(self._get_param("cluster") or "default")
        name = self._get_param("serviceName")
        token = self._get_param("clientToken")
        existing = backend.services.get(f"{cluster.name}:{name}")
        if existing is not None and existing.status != "INACTIVE":
            if token and getattr(existing, "client_token", None) == token:
                # A retry of the request that created the service.
                return ActionResult({"service": existing})
            raise invalid("Creation of service was not idempotent.")
        sc_config, ns = _service_connect(
            backend, self._get_param("serviceConnectConfiguration"), cluster, self._get_param("taskDefinition")
        )
        result = original(self)
        service = backend.services.get(f"{cluster.name}:{name}")
        if service is not None:
            service.client_token = token
            resources = _provision(backend, sc_config, ns)
            deployments.start(service, deployments.spec_of(service, sc_config, resources))
        return result

    return _locked(create_service)


def _wrap_update_service(original: Any) -> Any:
    def update_service(self: Any, backend: Any) -> ActionResult:
        cluster, service = _named_service(self, backend)
        network = self._get_param("networkConfiguration")
        if service is None or express_service(backend, service) is not None or deployments.history(service) is None:
            # Unknown services (moto answers ServiceNotFoundException) and Express services
            # go moto's way.
            if network and network.get("awsvpcConfiguration"):
                _validate_awsvpc(backend, network["awsvpcConfiguration"])
            return original(self)
        if service.status != "ACTIVE":
            raise EcsError("ServiceNotActiveException", "Service was not ACTIVE.")
        requested_td = self._get_param("taskDefinition")
        sc_param = self._get_param("serviceConnectConfiguration")
        sc_config, ns = _service_connect(backend, sc_param, cluster, requested_td or service.task_definition)
        if network and network.get("awsvpcConfiguration"):
            _validate_awsvpc(backend, network["awsvpcConfiguration"])
        base = deployments.current_spec(service) or {}
        result = original(self)
        _task_definition_arn(backend, service, requested_td)
        triggered = bool(self._get_param("forceNewDeployment")) or any(
            self._get_param(p) is not None for p in deployments.TRIGGERS
        )
        if triggered:
            if sc_param is not None:
                resources = _provision(backend, sc_config, ns)
            else:
                sc_config = base.get("serviceConnectConfiguration")
                resources = base.get("serviceConnectResources") or []
            deployments.start(service, deployments.spec_of(service, sc_config, resources))
        else:
            deployments.sync(service)
        return result

    return _locked(update_service)


def _wrap_delete_service(original: Any) -> Any:
    def delete_service(self: Any, backend: Any) -> ActionResult:
        _, service = _named_service(self, backend)
        svc = express_service(backend, service)
        if svc is None:
            return original(self)
        # An Express service deleted through DeleteService goes the way of
        # DeleteExpressGatewayService: draining, then inactive, managed resources removed.
        delete_express(backend, svc)
        return ActionResult({"service": service})

    return _locked(delete_service)


def _wrap_describe_services(original: Any) -> Any:
    """``services`` is 1..10 names or ARNs, as the API reference and ECS's errors have it."""

    def describe_services(self: Any) -> ActionResult:
        names = self._get_param("services") or []
        if not names:
            raise invalid("Services cannot be empty.")
        if len(names) > MAX_DESCRIBE:
            raise invalid(f"service names can have at most {MAX_DESCRIBE} items.")
        result = original(self)
        # A missing service given by name is named by the ARN it would have (services read back
        # long ARNs, ``service/<cluster>/<name>``); moto writes the short form.
        backend = self.ecs_backend
        cluster = backend._get_cluster(self._get_param("cluster") or "default")
        prefix = f"arn:{backend.partition}:ecs:{backend.region_name}:{backend.account_id}:service/"
        for failure in (result.result or {}).get("failures") or []:
            arn = failure.get("arn", "")
            rest = arn.removeprefix(prefix)
            if arn not in names and arn.startswith(prefix) and "/" not in rest:
                failure["arn"] = f"{prefix}{cluster.name}/{rest}"
        return result

    describe_services.__name__ = "describe_services"
    return describe_services


def _wrap_tagging(original: Any) -> Any:
    """Tag/UntagResource of an unknown service answer ``ResourceNotFoundException`` (the errors
    the API reference gives these operations), not moto's ``ServiceNotFoundException``."""
    from moto.ecs.exceptions import ServiceNotFoundException

    def handler(self: Any) -> Any:
        with LOCK:
            _tick(self.ecs_backend)
            try:
                return original(self)
            except ServiceNotFoundException:
                raise EcsError("ResourceNotFoundException", "The specified resource wasn't found.") from None

    handler.__name__ = original.__name__
    return handler


def _validate_awsvpc(backend: Any, awsvpc: dict[str, Any]) -> None:
    from moto.ec2.exceptions import InvalidSubnetIdError

    subnets = awsvpc.get("subnets") or []
    if len(subnets) == 0:
        raise invalid("subnets can not be empty.")
    ec2 = ec2_backends[backend.account_id][backend.region_name]
    try:
        ec2.describe_subnets(subnet_ids=subnets)
    except InvalidSubnetIdError as exc:
        subnet_id = exc.message.split("'")[1]
        raise invalid(
            f"Error retrieving subnet information for [{subnet_id}]: {exc.message} (ErrorCode: {exc.code})"
        ) from None
    for group_id in awsvpc.get("securityGroups") or []:
        if ec2.get_security_group_from_id(group_id) is None:
            raise invalid(
                f"Error retrieving security group information for [{group_id}]: "
                f"The security group '{group_id}' does not exist (ErrorCode: InvalidGroup.NotFound)"
            )
    if "assignPublicIp" not in awsvpc:
        awsvpc["assignPublicIp"] = "DISABLED"


def _patched_validate_network(self: Service, nc: dict[str, Any]) -> dict[str, Any]:
    awsvpc = nc.get("awsvpcConfiguration")
    if awsvpc is not None:
        _validate_awsvpc(self._backend, awsvpc)
    return nc


def _wrap_service_init(original: Any) -> Any:
    def __init__(self: Service, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.created_at = utcnow()
        self.resource_management_type = "CUSTOMER"
        if not hasattr(self, "service_connect_configuration"):
            self.service_connect_configuration = None

    return __init__


def install() -> None:
    cls = EC2ContainerServiceResponse
    cls.list_services = list_services
    cls.describe_services = _wrap_describe_services(_wrap_describe(cls.describe_services))
    cls.tag_resource = _wrap_tagging(cls.tag_resource)
    cls.untag_resource = _wrap_tagging(cls.untag_resource)
    cls.describe_clusters = _wrap_describe(cls.describe_clusters)
    cls.describe_tasks = _wrap_describe(cls.describe_tasks)
    cls.describe_task_sets = _wrap_describe(cls.describe_task_sets)
    cls.create_service = _wrap_create_service(cls.create_service)
    cls.update_service = _wrap_update_service(cls.update_service)
    cls.delete_service = _wrap_delete_service(cls.delete_service)
    Service._validate_network = _patched_validate_network  # type: ignore[method-assign]
    Service.__init__ = _wrap_service_init(Service.__init__)  # type: ignore[method-assign]
