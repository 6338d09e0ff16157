"""Classic ECS services as the AWS API reference describes them: ListServices paging,
Service Connect, idempotent CreateService, awsvpc without security groups.

Stock moto ignores ``maxResults``/``nextToken`` on ``ListServices``, drops
``serviceConnectConfiguration`` and fails with HTTP 500 when an awsvpc configuration has no
``securityGroups``. This module patches methods of moto's ECS response class and of its
``Service`` model; its state lives on moto's own service objects, so ``/moto-api/reset`` wipes it.

- ``ListServices`` pages (``maxResults`` 1..100, 10 by default, opaque ``nextToken``), filters on
  ``resourceManagementType`` and, as AWS, leaves ``INACTIVE`` services out.
- Express services (``ecs_express``) are ECS services too and read ``resourceManagementType``
  ``ECS``; every other service reads ``CUSTOMER``. ``DescribeServices``, ``DescribeClusters``,
  ``DescribeTasks`` and ``DescribeTaskSets`` see them as their Express deployments have left
  them. ``DeleteService`` of an Express service deletes it as ``DeleteExpressGatewayService``
  does.
- ``CreateService``/``UpdateService`` keep ``serviceConnectConfiguration`` in the ``PRIMARY``
  entry of ``deployments[]`` (the namespace read back as its ARN and ``serviceConnectResources``
  naming the Cloud Map service when the namespace is in the same account and region).
- A second ``CreateService`` of an active name fails with ``Creation of service was not
  idempotent.`` unless it repeats the ``clientToken`` of the first.
- Services read back ``createdAt``, and an awsvpc configuration without ``securityGroups`` is
  accepted (``assignPublicIp`` defaults to ``DISABLED``).
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ec2.models import ec2_backends
from moto.ecs.models import Cluster, Service
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.moto_api._internal import mock_random

from .common import decode_token, encode_token
from .ecs_common import LOCK, invalid, invalid_token
from .ecs_express import delete_express, express_service, tick

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
        tick(backend)
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
        tick(self.ecs_backend)
        return original(self)

    wrapper.__name__ = original.__name__
    return wrapper


def _namespace_of(account: str, region: str, namespace: str | None) -> tuple[str | None, Any]:
    """(namespace ARN, Cloud Map backend) when the namespace is found in this account and region."""
    if not namespace:
        return None, None
    try:
        from moto.servicediscovery.models import servicediscovery_backends

        sd = servicediscovery_backends[account][region]
        for ns in list(sd.namespaces.values()):
            if namespace in (ns.arn, ns.name, ns.id):
                return ns.arn, (sd, ns)
    except Exception:  # noqa: BLE001
        return None, None
    return None, None


def _service_connect(backend: Any, config: dict[str, Any] | None, cluster: Cluster) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
    if not config:
        return None, []
    if config.get("enabled") is None:
        raise invalid("serviceConnectConfiguration.enabled can not be null.")
    result = json.loads(json.dumps(config, default=str))
    namespace = result.get("namespace") or (cluster.service_connect_defaults or {}).get("namespace")
    resources: list[dict[str, str]] = []
    if not result.get("enabled"):
        return result, resources
    if not namespace:
        raise invalid("Service Connect requires a namespace: set serviceConnectConfiguration.namespace or the cluster's serviceConnectDefaults.")
    arn, found = _namespace_of(backend.account_id, backend.region_name, namespace)
    result["namespace"] = arn or namespace
    for entry in result.get("services") or []:
        if not entry.get("portName"):
            raise invalid("serviceConnectConfiguration.services.portName can not be null or empty.")
        discovery = entry.get("discoveryName") or entry["portName"]
        entry["discoveryName"] = discovery
        for alias in entry.get("clientAliases") or []:
            if alias.get("port") is None:
                raise invalid("serviceConnectConfiguration.services.clientAliases.port can not be null.")
        if found is not None:
            sd, ns = found
            existing = None
            for candidate in list(sd.services.values()):
                if candidate.name == discovery and candidate.namespace_id == ns.id:
                    existing = candidate
            if existing is None:
                try:
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
                except Exception:  # noqa: BLE001
                    existing = None
            if existing is not None:
                resources.append({"discoveryName": discovery, "discoveryArn": existing.arn})
    return result, resources


def _apply_service_connect(service: Service, config: dict[str, Any] | None, resources: list[dict[str, str]]) -> None:
    service.service_connect_configuration = config
    for deployment in service.deployments or []:
        if deployment.get("status") == "PRIMARY":
            if config is None:
                deployment.pop("serviceConnectConfiguration", None)
                deployment.pop("serviceConnectResources", None)
            else:
                deployment["serviceConnectConfiguration"] = config
                deployment["serviceConnectResources"] = resources


def _wrap_create_service(original: Any) -> Any:
    def create_service(self: Any) -> ActionResult:
        backend = self.ecs_backend
        with LOCK:
            tick(backend)
            cluster = backend._get_cluster(self._get_param("cluster") or "default")
            name = self._get_param("serviceName")
            token = self._get_param("clientToken")
            existing = backend.services.get(f"{cluster.name}:{name}")
            if existing is not None and existing.status != "INACTIVE":
                if token and getattr(existing, "client_token", None) == token:
                    # A retry of the request that created the service.
                    return ActionResult({"service": existing})
                raise invalid("Creation of service was not idempotent.")
            sc_config, sc_resources = _service_connect(backend, self._get_param("serviceConnectConfiguration"), cluster)
            result = original(self)
            service = backend.services.get(f"{cluster.name}:{name}")
            if service is not None:
                service.client_token = token
                if sc_config is not None:
                    _apply_service_connect(service, sc_config, sc_resources)
            return result

    create_service.__name__ = "create_service"
    return create_service


def _wrap_update_service(original: Any) -> Any:
    def update_service(self: Any) -> ActionResult:
        backend = self.ecs_backend
        with LOCK:
            tick(backend)
            cluster = backend._get_cluster(self._get_param("cluster") or "default")
            sc_param = self._get_param("serviceConnectConfiguration")
            sc_config, sc_resources = _service_connect(backend, sc_param, cluster)
            network = self._get_param("networkConfiguration")
            if network and network.get("awsvpcConfiguration"):
                _validate_awsvpc(backend, network["awsvpcConfiguration"])
            result = original(self)
            name = (self._get_param("service") or "").split("/")[-1]
            service = backend.services.get(f"{cluster.name}:{name}")
            if service is not None and sc_param is not None:
                _apply_service_connect(service, sc_config, sc_resources)
            elif service is not None and getattr(service, "service_connect_configuration", None):
                # moto rebuilt nothing; keep the PRIMARY deployment's Service Connect view.
                _apply_service_connect(service, service.service_connect_configuration, [])
            return result

    update_service.__name__ = "update_service"
    return update_service


def _wrap_delete_service(original: Any) -> Any:
    def delete_service(self: Any) -> ActionResult:
        backend = self.ecs_backend
        with LOCK:
            tick(backend)
            cluster = backend._get_cluster(self._get_param("cluster") or "default")
            name = (self._get_param("service") or "").split("/")[-1]
            service = backend.services.get(f"{cluster.name}:{name}")
            svc = express_service(backend, service)
            if svc is None:
                return original(self)
            # An Express service deleted through DeleteService goes the way of
            # DeleteExpressGatewayService: draining, then inactive, managed resources removed.
            delete_express(backend, svc)
            return ActionResult({"service": service})

    delete_service.__name__ = "delete_service"
    return delete_service


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
    cls.describe_services = _wrap_describe(cls.describe_services)
    cls.describe_clusters = _wrap_describe(cls.describe_clusters)
    cls.describe_tasks = _wrap_describe(cls.describe_tasks)
    cls.describe_task_sets = _wrap_describe(cls.describe_task_sets)
    cls.create_service = _wrap_create_service(cls.create_service)
    cls.update_service = _wrap_update_service(cls.update_service)
    cls.delete_service = _wrap_delete_service(cls.delete_service)
    Service._validate_network = _patched_validate_network  # type: ignore[method-assign]
    Service.__init__ = _wrap_service_init(Service.__init__)  # type: ignore[method-assign]
