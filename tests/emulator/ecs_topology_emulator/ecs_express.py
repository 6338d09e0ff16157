"""ECS Express Mode as the AWS API reference describes it.

Stock moto lacks the Express Gateway operations and the reads of service revisions and service
deployments. This module adds ``CreateExpressGatewayService``, ``DescribeExpressGatewayService``,
``UpdateExpressGatewayService``, ``DeleteExpressGatewayService``, ``DescribeServiceRevisions``,
``DescribeServiceDeployments`` and ``ListServiceDeployments`` to moto's ECS response class; all
state lives on the per-account/region ECS backend object, so ``/moto-api/reset`` wipes it. How
the classic service operations show these services is ``ecs_services``'s part.

- An Express service is also a regular ECS service (``resourceManagementType`` ``ECS``) on a
  Fargate capacity provider, with a canary deployment configuration, the load balancer target
  group of its primary container ``Main`` and a task definition of the family
  ``<cluster>-<service>``. ``ListServices`` (filter ``resourceManagementType``) and
  ``DescribeServices`` (``include=["TAGS"]``) show it; other services read
  ``resourceManagementType`` ``CUSTOMER``.
- The cluster defaults to ``default``, which is created (with the Fargate capacity providers)
  when absent; any other missing cluster is ``ClusterNotFoundException``.
- Each create or update makes a service revision (``service-revision/<cluster>/<service>/<id>``)
  and a service deployment (``service-deployment/<cluster>/<service>/<id>``). A deployment takes
  the per-account setting ``ecs.express_deploy`` seconds (default 0); while it runs,
  ``currentDeployment`` names it and ``activeConfigurations`` lists the target configuration
  first, then the one it replaces; afterwards ``currentDeployment`` is absent and only the target
  configuration is active. ``DescribeServices`` keeps naming the newest deployment in
  ``currentServiceDeployment``.
- Failed deployments: Express services deploy with the circuit breaker on and rollback on. A
  deployment of a service listed in the per-account setting ``ecs.express_fail_services`` (a list
  of service names; whether a deployment fails is decided when it starts, by a create or an
  update) runs ``ecs.express_deploy`` seconds as any other and then fails as the circuit breaker
  fails it. ECS rolls back to the revision of the service's most recent deployment that
  completed (a rollback needs one, and makes no new revision). Then:
  ``DescribeServiceDeployments`` answers ``status`` ``ROLLBACK_SUCCESSFUL`` with ``finishedAt``,
  a ``statusReason``, ``rollback`` (``reason`` ``ECS deployment circuit breaker: tasks failed to
  start.``, ``startedAt``, ``serviceRevisionArn`` of the restored revision) and
  ``deploymentCircuitBreaker`` ``TRIGGERED`` with ``failureCount`` = ``threshold`` (half the
  desired tasks, within 3..200); the target revision has no tasks left, the sources have theirs
  back. ``ListServiceDeployments`` shows the same status, reason and finish time.
  ``DescribeExpressGatewayService`` has no ``currentDeployment`` and the restored configuration
  as its only active one, which a later update starts from. ``DescribeServices`` shows the
  restored revision (``taskDefinition``, ``currentServiceRevisions``), its deployment PRIMARY and
  COMPLETED again in ``deployments[]`` (the failed one, drained, is gone), and the events
  ``(service S) (deployment D) deployment failed: tasks failed to start.`` and ``(service S)
  rolling back to deployment R.``. With no deployment that completed (a failed create, and
  updates that all failed after it) the circuit breaker has nothing to roll back to, launches no
  tasks and the deployment stalls: the service deployment is ``ROLLBACK_FAILED`` (``rollback``
  without a revision), its configuration stays the active one with no running tasks, and
  ``deployments[]`` shows it PRIMARY with ``rolloutState`` ``FAILED``, ``rolloutStateReason``
  ``ECS deployment circuit breaker: tasks failed to start.`` and ``failedTasks``. AWS does not
  document the wording of ``statusReason``; the emulator's is its own.
- The ECS-managed resources (``DescribeServiceRevisions`` -> ``ecsManagedResources``): an
  Application Load Balancer ``ecs-express-gateway-alb-<hex>`` with its HTTPS listener and
  security group, shared by up to 25 services of the same VPC, subnet set and scheme
  (``internet-facing`` when every subnet routes 0.0.0.0/0 to an internet gateway, else
  ``internal``); per service a host-header listener rule, two target groups
  ``ecs-gateway-tg-<hex>`` (revisions alternate between them), an ACM certificate for the
  endpoint ``<2 letters>-<32 hex>.ecs.<region>.on.aws``, a service security group (a real EC2
  security group tagged ``AmazonECSManaged=true``, appended to the configuration's
  ``networkConfiguration.securityGroups``), a log group ``/aws/ecs/<cluster>/<service>-<hex>``,
  an Application Auto Scaling target and target-tracking policy, and a rollback alarm. Their
  status is ``PROVISIONING`` during the first deployment, then ``ACTIVE``; ``DEPROVISIONING``
  while the service drains.
- ``DeleteExpressGatewayService``: the service is ``DRAINING`` for ``ecs.express_drain`` seconds
  (default 0: ``INACTIVE`` at once), then ``INACTIVE``; its managed resources are removed (the
  load balancer when its last service goes). A name whose service is ``INACTIVE`` can be reused.
  ``DeleteService`` of an Express service does the same (``delete_express``).
- Defaults as AWS fills them: cpu ``1024``, memory ``2048``, cpuArchitecture ``X86_64``,
  healthCheckPath ``/``, containerPort 80, scaling 1..20 on ``AVERAGE_CPU`` at 60, a managed log
  group with stream prefix ``ecs``. A primary container without ``command`` reads back
  ``command: []``; environment variables read back sorted by name. An update that carries
  ``primaryContainer`` replaces the whole container (so a missing ``command`` becomes ``[]``);
  other omitted top-level fields keep their values.
- ``ListServiceDeployments``/``DescribeServiceDeployments``/``DescribeServiceRevisions`` answer
  for Express services (a regular service lists no deployments; unknown ARNs are ``MISSING``
  failures); revisions of an ``INACTIVE`` service are an ``InvalidParameterException``.

For ``ecs_services``: ``tick(backend)`` brings the ECS service objects of Express services up to
date (status, deployments, task definition) before moto's own handlers read them;
``express_service(backend, service)`` is the Express service behind an ECS service, if any.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ec2.models import ec2_backends
from moto.ecs.models import Cluster, Service
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.moto_api._internal import mock_random
from moto.utilities.utils import get_partition

from . import settings
from .common import backend_state, decode_token, encode_token, install_handlers
from .ecs_common import LOCK, EcsError, client_error, invalid, invalid_token

DEPLOY_SETTING = "ecs.express_deploy"
DRAIN_SETTING = "ecs.express_drain"
FAIL_SETTING = "ecs.express_fail_services"

T = TypeVar("T")

# the attribute of an ECS backend that holds its Express services, load balancers and revisions
_STATE_ATTR = "_ecs_topology_express"

MAIN_CONTAINER = "Main"
MAX_SERVICES_PER_ALB = 25
DEFAULT_CPU = "1024"
DEFAULT_MEMORY = "2048"
DEFAULT_HEALTH_CHECK_PATH = "/"
DEFAULT_PORT = 80
DEFAULT_SCALING = {
    "minTaskCount": 1,
    "maxTaskCount": 20,
    "autoScalingMetric": "AVERAGE_CPU",
    "autoScalingTargetValue": 60,
}
SCALING_METRICS = {
    "AVERAGE_CPU": "ECSServiceAverageCPUUtilization",
    "AVERAGE_MEMORY": "ECSServiceAverageMemoryUtilization",
    "REQUEST_COUNT_PER_TARGET": "ALBRequestCountPerTarget",
}
# What ECS reports of a deployment its circuit breaker failed (the classic ``rolloutStateReason``).
CIRCUIT_BREAKER_FAILURE = "ECS deployment circuit breaker: tasks failed to start."
ROLLED_BACK = "Service deployment rolled back because the circuit breaker threshold was exceeded."
ROLLBACK_IMPOSSIBLE = (
    "Service deployment failed and was not rolled back: no earlier deployment of the service completed."
)
FARGATE_MEMORY = {
    256: [512, 1024, 2048],
    512: list(range(1024, 4096 + 1, 1024)),
    1024: list(range(2048, 8192 + 1, 1024)),
    2048: list(range(4096, 16384 + 1, 1024)),
    4096: list(range(8192, 30720 + 1, 1024)),
    8192: list(range(16384, 61440 + 1, 4096)),
    16384: list(range(32768, 122880 + 1, 8192)),
}


def _hex(n: int) -> str:
    return "".join(mock_random.choice("0123456789abcdef") for _ in range(n))


def _digits(n: int) -> str:
    return str(mock_random.randint(1, 9)) + "".join(str(mock_random.randint(0, 9)) for _ in range(n - 1))


def _deployment_id() -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(mock_random.choice(alphabet) for _ in range(21))


def _partition(region: str) -> str:
    return get_partition(region)


def _now_mono() -> float:
    return time.monotonic()


# ---------------------------------------------------------------------------------------------
# state kept on the ECS backend


class _Alb:
    """An ECS-managed Application Load Balancer shared by services of one subnet set and scheme."""

    def __init__(self, backend: Any, key: tuple, vpc_id: str, subnets: list[str], scheme: str, sg_id: str):
        region, account = backend.region_name, backend.account_id
        part = _partition(region)
        self.key = key
        self.vpc_id = vpc_id
        self.subnets = list(subnets)
        self.scheme = scheme
        self.name = f"ecs-express-gateway-alb-{_hex(8)}"
        self.lb_id = _hex(16)
        self.arn = f"arn:{part}:elasticloadbalancing:{region}:{account}:loadbalancer/app/{self.name}/{self.lb_id}"
        self.listener_id = _hex(16)
        self.listener_arn = (
            f"arn:{part}:elasticloadbalancing:{region}:{account}:listener/app/{self.name}/{self.lb_id}/{self.listener_id}"
        )
        self.sg_id = sg_id
        self.sg_arn = f"arn:{part}:ec2:{region}:{account}:security-group/{sg_id}"
        self.created_at = utcnow()
        self.services: set[str] = set()
        self.deleted = False


class _Revision:
    def __init__(self, service: "_Express", config: dict[str, Any], task_definition: str, tg_index: int, alb: _Alb):
        region, account = service.region, service.account
        part = _partition(region)
        self.arn = f"arn:{part}:ecs:{region}:{account}:service-revision/{service.cluster_name}/{service.name}/{_digits(19)}"
        self.service = service
        self.config = config
        self.task_definition = task_definition
        self.tg_index = tg_index
        self.alb = alb
        self.created_at = utcnow()
        self.image_digest = "sha256:" + _hex(64)


class _Deployment:
    """One service deployment: ``target`` replaces ``sources`` over ``duration`` seconds.

    A deployment that ``fails`` (decided when it starts) fails when its time is up; it then
    restores the revision of ``restore``, the service's last deployment that completed, or, with
    none, stalls.
    """

    def __init__(
        self,
        service: "_Express",
        target: _Revision,
        sources: list[_Revision],
        duration: float,
        fails: bool,
        restore: "_Deployment | None",
    ):
        region, account = service.region, service.account
        part = _partition(region)
        self.arn = f"arn:{part}:ecs:{region}:{account}:service-deployment/{service.cluster_name}/{service.name}/{_deployment_id()}"
        self.service = service
        self.target = target
        self.sources = list(sources)
        self.created_at = utcnow()
        self.created_mono = _now_mono()
        self.duration = float(duration)
        self.fails = fails
        self.restore = restore
        self.stopped_at: datetime | None = None
        self.id = f"ecs-svc/{_digits(19)}"
        # whether the service events already tell how it ended
        self.told = False

    def done(self) -> bool:
        return self.stopped_at is None and _now_mono() >= self.created_mono + self.duration

    def finished_at(self) -> datetime:
        from datetime import timedelta

        return self.created_at + timedelta(seconds=self.duration)

    def status(self) -> str:
        if self.stopped_at is not None:
            return "STOPPED"
        if not self.done():
            return "IN_PROGRESS"
        if self.fails:
            return "ROLLBACK_SUCCESSFUL" if self.restore is not None else "ROLLBACK_FAILED"
        return "SUCCESSFUL"

    def in_service(self) -> _Revision:
        """The revision this deployment leaves (or, while it runs, puts) in service."""
        if self.status() == "ROLLBACK_SUCCESSFUL" and self.restore is not None:
            return self.restore.target
        return self.target

    def completed(self) -> "_Deployment | None":
        """The deployment of the revision in service if this one completed (itself, or the one it
        rolled back to); ``None`` while it runs or when it was stopped or stalled."""
        status = self.status()
        if status == "SUCCESSFUL":
            return self
        if status == "ROLLBACK_SUCCESSFUL":
            return self.restore
        return None

    def threshold(self) -> int:
        """The circuit breaker's failure threshold: half the desired tasks, within 3..200."""
        desired = int(self.target.config["scalingTarget"]["minTaskCount"] or 0)
        return max(3, min(200, -(-desired // 2)))


class _Express:
    def __init__(self, backend: Any, cluster: Cluster, name: str, infra_role: str):
        self.backend = backend
        self.region = backend.region_name
        self.account = backend.account_id
        self.cluster_name = cluster.name
        self.cluster_arn = cluster.arn
        self.name = name
        part = _partition(self.region)
        self.arn = f"arn:{part}:ecs:{self.region}:{self.account}:service/{cluster.name}/{name}"
        self.infrastructure_role_arn = infra_role
        self.created_at = utcnow()
        self.updated_at = self.created_at
        self.delete_mono: float | None = None
        self.drain_for = 0.0
        self.deleted_at: datetime | None = None
        self.cleaned = False
        self.endpoint = f"{(name[:2] or 'ex').lower()}-{_hex(32)}.ecs.{self.region}.on.aws"
        self.revisions: list[_Revision] = []
        self.deployments: list[_Deployment] = []
        self.alb: _Alb | None = None
        self.ecs_service: Service | None = None
        self.ec2 = ec2_backends[self.account][self.region]
        # per-service managed resources
        self.service_sg_id: str | None = None
        self.target_groups = [
            (f"ecs-gateway-tg-{_hex(17)}", _hex(16)),
            (f"ecs-gateway-tg-{_hex(17)}", _hex(16)),
        ]
        self.rule_id = _hex(16)
        self.certificate_id = str(mock_random.uuid4())
        self.log_group = f"/aws/ecs/{cluster.name}/{name}-{_hex(4)}"
        self.scalable_target_id = _hex(32)
        self.policy_id = str(mock_random.uuid4())
        self.alarm_name = f"{cluster.name}/{name}/RollbackAlarm"

    # lifecycle -----------------------------------------------------------------------------

    def status(self) -> str:
        if self.delete_mono is None:
            return "ACTIVE"
        if _now_mono() < self.delete_mono + self.drain_for:
            return "DRAINING"
        return "INACTIVE"

    def current_deployment(self) -> _Deployment | None:
        for deployment in reversed(self.deployments):
            if deployment.stopped_at is None and not deployment.done():
                return deployment
        return None

    def current_revision(self) -> _Revision:
        """The revision in service: the newest deployment's target, or the revision a failed
        newest deployment rolled back to."""
        if not self.deployments:
            return self.revisions[-1]
        return self.deployments[-1].in_service()

    def last_completed(self) -> _Deployment | None:
        """The deployment of the revision a failing deployment rolls back to: the most recent one
        that completed (or that a rollback completed again); ``None`` when none did."""
        for deployment in reversed(self.deployments):
            completed = deployment.completed()
            if completed is not None:
                return completed
        return None

    def stalled(self) -> bool:
        """Whether the newest deployment failed with nothing to roll back to (no tasks run)."""
        return bool(self.deployments) and self.deployments[-1].status() == "ROLLBACK_FAILED"

    def active_revisions(self) -> list[_Revision]:
        if self.status() == "INACTIVE":
            return []
        current = self.current_deployment()
        if current is None:
            return [self.current_revision()]
        return [current.target] + [s for s in current.sources if s is not current.target]

    def provisioned(self) -> bool:
        """True once the first deployment has completed."""
        first = self.deployments[0] if self.deployments else None
        return first is None or first.done() or first.stopped_at is not None

    def resource_status(self, shared: bool = False) -> str:
        status = self.status()
        if status == "DRAINING":
            return "ACTIVE" if shared and self.alb and len(self.alb.services) > 1 else "DEPROVISIONING"
        if status == "INACTIVE":
            return "ACTIVE" if shared and self.alb and not self.alb.deleted else "DELETED"
        return "ACTIVE" if self.provisioned() else "PROVISIONING"

    # ARNs ------------------------------------------------------------------------------------

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:{_partition(self.region)}:{service}:{self.region}:{self.account}:{resource}"

    def target_group_arn(self, index: int) -> str:
        name, tg_id = self.target_groups[index % 2]
        return self._arn("elasticloadbalancing", f"targetgroup/{name}/{tg_id}")

    def rule_arn(self, alb: _Alb) -> str:
        return self._arn(
            "elasticloadbalancing", f"listener-rule/app/{alb.name}/{alb.lb_id}/{alb.listener_id}/{self.rule_id}"
        )

    def certificate_arn(self) -> str:
        return self._arn("acm", f"certificate/{self.certificate_id}")

    def service_sg_arn(self) -> str:
        return self._arn("ec2", f"security-group/{self.service_sg_id}")

    def log_group_arn(self) -> str:
        return self._arn("logs", f"log-group:{self.log_group}")

    def scalable_target_arn(self) -> str:
        return self._arn("application-autoscaling", f"scalable-target/{self.scalable_target_id}")

    def policy_arn(self) -> str:
        return self._arn(
            "autoscaling",
            f"scalingPolicy:{self.policy_id}:resource/ecs/service/{self.cluster_name}/{self.name}:"
            f"policyName/{self.cluster_name}-{self.name}-scaling-policy",
        )

    def alarm_arn(self) -> str:
        return self._arn("cloudwatch", f"alarm:{self.alarm_name}")


class _State:
    def __init__(self) -> None:
        self.services: dict[str, _Express] = {}
        self.albs: list[_Alb] = []
        self.revisions: dict[str, _Revision] = {}
        self.deployments: dict[str, _Deployment] = {}


def _state(backend: Any) -> _State:
    return backend_state(backend, _STATE_ATTR, _State)


# ---------------------------------------------------------------------------------------------
# networking helpers


def _is_public(ec2: Any, subnet: Any) -> bool:
    table = None
    for candidate in ec2.route_tables.values():
        if candidate.vpc_id != subnet.vpc_id:
            continue
        if subnet.id in candidate._associations.values():
            table = candidate
            break
    if table is None:
        for candidate in ec2.route_tables.values():
            if candidate.vpc_id == subnet.vpc_id and candidate.main_association_id is not None:
                table = candidate
                break
    if table is None:
        return False
    for route in table.routes:
        gateway = route.gateway_id or ""
        if route.destination_cidr_block == "0.0.0.0/0" and gateway.startswith("igw-"):
            return True
    return False


def _resolve_network(ec2: Any, network: dict[str, Any] | None) -> tuple[str, list[str], list[str], bool]:
    """(vpc id, subnets, user security groups, public) of an Express network configuration."""
    network = network or {}
    subnet_ids = list(network.get("subnets") or [])
    groups = list(network.get("securityGroups") or [])
    if not subnet_ids:
        default_vpc = None
        for vpc in ec2.vpcs.values():
            if vpc.is_default:
                default_vpc = vpc
                break
        if default_vpc is None:
            raise invalid("No default VPC found. Specify subnets in networkConfiguration.")
        subnet_ids = sorted(
            (s.id for s in ec2.describe_subnets(filters={"vpc-id": [default_vpc.id]}) if s.default_for_az),
        )
        if not subnet_ids:
            raise invalid(f"No default subnets found in the default VPC {default_vpc.id}.")
    subnets = []
    for subnet_id in subnet_ids:
        try:
            subnets.append(ec2.get_subnet(subnet_id))
        except Exception:  # noqa: BLE001
            raise invalid(
                f"Error retrieving subnet information for [{subnet_id}]: The subnet ID '{subnet_id}' "
                "does not exist (ErrorCode: InvalidSubnetID.NotFound)"
            ) from None
    vpcs = {s.vpc_id for s in subnets}
    if len(vpcs) > 1:
        raise invalid("The subnets must all belong to the same VPC.")
    vpc_id = vpcs.pop()
    for group_id in groups:
        group = ec2.get_security_group_from_id(group_id)
        if group is None:
            raise invalid(
                f"Error retrieving security group information for [{group_id}]: The security group "
                f"'{group_id}' does not exist (ErrorCode: InvalidGroup.NotFound)"
            )
        if group.vpc_id != vpc_id:
            raise invalid(f"Security group {group_id} does not belong to VPC {vpc_id}.")
    public = all(_is_public(ec2, s) for s in subnets)
    return vpc_id, subnet_ids, groups, public


def _create_sg(ec2: Any, name: str, description: str, vpc_id: str) -> str:
    group = ec2.create_security_group(
        name, description, vpc_id=vpc_id, tags={"AmazonECSManaged": "true"}, force=True
    )
    ec2.create_tags([group.id], {"AmazonECSManaged": "true"})
    return group.id


def _delete_sg(ec2: Any, group_id: str | None) -> None:
    if not group_id:
        return
    try:
        ec2.delete_security_group(group_id=group_id)
    except Exception:  # noqa: BLE001 - a dependency keeps it; AWS would retry later
        pass


def _attach_alb(backend: Any, svc: _Express, vpc_id: str, subnets: list[str], public: bool) -> _Alb:
    state = _state(backend)
    scheme = "internet-facing" if public else "internal"
    key = (vpc_id, frozenset(subnets), scheme)
    if svc.alb is not None and not svc.alb.deleted and svc.alb.key == key:
        return svc.alb
    chosen = None
    for alb in state.albs:
        if not alb.deleted and alb.key == key and len(alb.services) < MAX_SERVICES_PER_ALB:
            chosen = alb
            break
    if chosen is None:
        sg_id = _create_sg(
            svc.ec2,
            f"ecs-express-gateway-alb-sg-{int(time.time() * 1000)}{_hex(4)}",
            "Managed by Amazon ECS Express Mode for the Application Load Balancer",
            vpc_id,
        )
        chosen = _Alb(backend, key, vpc_id, sorted(subnets), scheme, sg_id)
        state.albs.append(chosen)
    if svc.alb is not None and svc.alb is not chosen:
        _detach_alb(svc)
    chosen.services.add(svc.arn)
    svc.alb = chosen
    return chosen


def _detach_alb(svc: _Express) -> None:
    alb = svc.alb
    if alb is None:
        return
    alb.services.discard(svc.arn)
    if not alb.services and not alb.deleted:
        alb.deleted = True
        _delete_sg(svc.ec2, alb.sg_id)


# ---------------------------------------------------------------------------------------------
# configuration


def _validate_cpu_memory(cpu: str, memory: str) -> None:
    try:
        cpu_units = int(str(cpu))
        memory_mib = int(str(memory))
    except ValueError:
        raise client_error(
            f"No Fargate configuration exists for given values: {cpu} CPU, {memory} memory. "
            "See the Amazon ECS documentation for the valid values."
        ) from None
    if memory_mib not in FARGATE_MEMORY.get(cpu_units, []):
        raise client_error(
            f"No Fargate configuration exists for given values: {cpu_units} CPU, {memory_mib} memory. "
            "See the Amazon ECS documentation for the valid values."
        )


def _validate_scaling(scaling: dict[str, Any]) -> None:
    low, high = scaling.get("minTaskCount"), scaling.get("maxTaskCount")
    if low is not None and low < 0:
        raise invalid("minTaskCount must be greater than or equal to 0.")
    if low is not None and high is not None and low > high:
        raise invalid("minTaskCount must be less than or equal to maxTaskCount.")
    if high is not None and high < 1:
        raise invalid("maxTaskCount must be greater than or equal to 1.")
    metric = scaling.get("autoScalingMetric")
    if metric is not None and metric not in SCALING_METRICS:
        raise invalid(f"Invalid autoScalingMetric {metric}.")
    target = scaling.get("autoScalingTargetValue")
    if target is not None and target <= 0:
        raise invalid("autoScalingTargetValue must be greater than 0.")


def _normalise_container(container: dict[str, Any], log_group: str) -> dict[str, Any]:
    if not container.get("image"):
        raise invalid("primaryContainer.image can not be null or empty.")
    result: dict[str, Any] = {"image": container["image"]}
    result["containerPort"] = int(container.get("containerPort") or DEFAULT_PORT)
    logs = container.get("awsLogsConfiguration")
    if logs:
        if not logs.get("logGroup") or not logs.get("logStreamPrefix"):
            raise invalid("awsLogsConfiguration requires logGroup and logStreamPrefix.")
        result["awsLogsConfiguration"] = {"logGroup": logs["logGroup"], "logStreamPrefix": logs["logStreamPrefix"]}
    else:
        result["awsLogsConfiguration"] = {"logGroup": log_group, "logStreamPrefix": "ecs"}
    if container.get("repositoryCredentials"):
        result["repositoryCredentials"] = dict(container["repositoryCredentials"])
    # AWS reads an unset command back as an empty list.
    result["command"] = list(container.get("command") or [])
    if container.get("environment") is not None:
        result["environment"] = sorted(
            ({"name": e.get("name"), "value": e.get("value")} for e in container["environment"]),
            key=lambda e: e.get("name") or "",
        )
    if container.get("secrets") is not None:
        for secret in container["secrets"]:
            if not secret.get("name") or not secret.get("valueFrom"):
                raise invalid("secrets require name and valueFrom.")
        result["secrets"] = [{"name": s["name"], "valueFrom": s["valueFrom"]} for s in container["secrets"]]
    return result


def _container_from_task_definition(td: Any, log_group: str) -> dict[str, Any]:
    main = None
    for definition in td.container_definitions:
        if definition.get("name") == MAIN_CONTAINER:
            main = definition
    if main is None:
        raise invalid(f"The task definition must have a container named {MAIN_CONTAINER}.")
    mappings = main.get("portMappings") or []
    if len(mappings) != 1 or not mappings[0].get("containerPort"):
        raise invalid(
            f"The {MAIN_CONTAINER} container of the task definition must have a single TCP port mapping "
            "with a container port and a port name."
        )
    if "FARGATE" not in (td.compatibilities or []):
        raise invalid("The task definition must be compatible with FARGATE.")
    container: dict[str, Any] = {"image": main.get("image"), "containerPort": mappings[0]["containerPort"]}
    options = (main.get("logConfiguration") or {}).get("options") or {}
    if options.get("awslogs-group"):
        container["awsLogsConfiguration"] = {
            "logGroup": options["awslogs-group"],
            "logStreamPrefix": options.get("awslogs-stream-prefix", "ecs"),
        }
    else:
        container["awsLogsConfiguration"] = {"logGroup": log_group, "logStreamPrefix": "ecs"}
    container["command"] = list(main.get("command") or [])
    if main.get("environment"):
        container["environment"] = sorted(main["environment"], key=lambda e: e.get("name") or "")
    if main.get("secrets"):
        container["secrets"] = list(main["secrets"])
    if main.get("repositoryCredentials"):
        container["repositoryCredentials"] = dict(main["repositoryCredentials"])
    return container


def _register_task_definition(backend: Any, svc: _Express, config: dict[str, Any]) -> str:
    container = config["primaryContainer"]
    definition: dict[str, Any] = {
        "name": MAIN_CONTAINER,
        "image": container["image"],
        "essential": True,
        "portMappings": [
            {"containerPort": container["containerPort"], "protocol": "tcp", "name": "main-port", "appProtocol": "http"}
        ],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": container["awsLogsConfiguration"]["logGroup"],
                "awslogs-region": svc.region,
                "awslogs-stream-prefix": container["awsLogsConfiguration"]["logStreamPrefix"],
            },
        },
    }
    if container.get("command"):
        definition["command"] = list(container["command"])
    if container.get("environment"):
        definition["environment"] = [dict(e) for e in container["environment"]]
    if container.get("secrets"):
        definition["secrets"] = [dict(s) for s in container["secrets"]]
    if container.get("repositoryCredentials"):
        definition["repositoryCredentials"] = dict(container["repositoryCredentials"])
    td = backend.register_task_definition(
        f"{svc.cluster_name}-{svc.name}",
        [definition],
        network_mode="awsvpc",
        requires_compatibilities=["FARGATE"],
        cpu=config["cpu"],
        memory=config["memory"],
        execution_role_arn=config.get("executionRoleArn"),
        task_role_arn=config.get("taskRoleArn"),
        runtime_platform={"cpuArchitecture": config["cpuArchitecture"], "operatingSystemFamily": "LINUX"},
        tags=[{"key": "AmazonECSManaged", "value": "true"}],
    )
    return td.arn


def _build_config(
    backend: Any, svc: _Express, params: dict[str, Any], previous: dict[str, Any] | None
) -> tuple[dict[str, Any], str | None, tuple[str, list[str], bool]]:
    """The full configuration of a create (previous None) or update, and an explicit task definition."""
    prev = previous or {}
    task_definition_arn = params.get("taskDefinitionArn")
    exclusive = ["primaryContainer", "executionRoleArn", "taskRoleArn", "cpu", "memory", "cpuArchitecture"]
    if task_definition_arn:
        given = [name for name in exclusive if params.get(name) is not None]
        if given:
            raise invalid(
                "You can't specify taskDefinitionArn together with " + ", ".join(given) + "."
            )
    config: dict[str, Any] = {}
    if task_definition_arn:
        td = backend.describe_task_definition(task_definition_arn)  # ClientException when unknown
        config["primaryContainer"] = _container_from_task_definition(td, svc.log_group)
        config["taskDefinitionArn"] = td.arn
        if getattr(td, "execution_role_arn", None):
            config["executionRoleArn"] = td.execution_role_arn
        if getattr(td, "task_role_arn", None):
            config["taskRoleArn"] = td.task_role_arn
        config["cpu"] = str(td.cpu) if td.cpu else prev.get("cpu", DEFAULT_CPU)
        config["memory"] = str(td.memory) if td.memory else prev.get("memory", DEFAULT_MEMORY)
        config["cpuArchitecture"] = ((td.runtime_platform or {}).get("cpuArchitecture")) or "X86_64"
    else:
        if params.get("primaryContainer") is not None:
            config["primaryContainer"] = _normalise_container(params["primaryContainer"], svc.log_group)
        elif "primaryContainer" in prev and "taskDefinitionArn" not in prev:
            config["primaryContainer"] = json.loads(json.dumps(prev["primaryContainer"]))
        elif previous is None or "taskDefinitionArn" in prev:
            raise invalid("primaryContainer can not be null.")
        for name in ("executionRoleArn", "taskRoleArn"):
            value = params.get(name)
            if value is not None:
                config[name] = value
            elif prev.get(name) and "taskDefinitionArn" not in prev:
                config[name] = prev[name]
        if not config.get("executionRoleArn"):
            raise invalid("executionRoleArn can not be null or empty.")
        config["cpu"] = str(params.get("cpu") or prev.get("cpu") or DEFAULT_CPU)
        config["memory"] = str(params.get("memory") or prev.get("memory") or DEFAULT_MEMORY)
        config["cpuArchitecture"] = params.get("cpuArchitecture") or prev.get("cpuArchitecture") or "X86_64"
        if config["cpuArchitecture"] not in ("X86_64", "ARM64"):
            raise invalid(f"Invalid cpuArchitecture {config['cpuArchitecture']}.")
        _validate_cpu_memory(config["cpu"], config["memory"])

    config["healthCheckPath"] = params.get("healthCheckPath") or prev.get("healthCheckPath") or DEFAULT_HEALTH_CHECK_PATH

    scaling = dict(prev.get("scalingTarget") or DEFAULT_SCALING)
    for key, value in (params.get("scalingTarget") or {}).items():
        if value is not None:
            scaling[key] = value
    _validate_scaling(scaling)
    config["scalingTarget"] = scaling

    network = params.get("networkConfiguration")
    if network is None and prev.get("_network") is not None:
        network_in = prev["_network"]
    elif network is not None:
        network_in = {
            "subnets": network.get("subnets") or (prev.get("_network") or {}).get("subnets") or [],
            "securityGroups": network.get("securityGroups") or [],
        }
    else:
        network_in = {}
    vpc_id, subnets, groups, public = _resolve_network(svc.ec2, network_in)
    config["_network"] = {"subnets": subnets, "securityGroups": groups}
    return config, task_definition_arn, (vpc_id, subnets, public)


def _public_config(svc: _Express, revision: _Revision) -> dict[str, Any]:
    config = revision.config
    result: dict[str, Any] = {
        "serviceRevisionArn": revision.arn,
        "executionRoleArn": config.get("executionRoleArn"),
        "taskRoleArn": config.get("taskRoleArn"),
        "taskDefinitionArn": revision.task_definition,
        "cpu": config["cpu"],
        "memory": config["memory"],
        "cpuArchitecture": config["cpuArchitecture"],
        "networkConfiguration": {
            "securityGroups": list(config["_network"]["securityGroups"]) + ([svc.service_sg_id] if svc.service_sg_id else []),
            "subnets": list(config["_network"]["subnets"]),
        },
        "healthCheckPath": config["healthCheckPath"],
        "primaryContainer": json.loads(json.dumps(config["primaryContainer"])),
        "scalingTarget": dict(config["scalingTarget"]),
        "ingressPaths": [
            {"accessType": "PUBLIC" if revision.alb.scheme == "internet-facing" else "PRIVATE", "endpoint": svc.endpoint}
        ],
        "createdAt": revision.created_at,
    }
    return {k: v for k, v in result.items() if v is not None}


def _express_wire(svc: _Express, include_tags: bool) -> dict[str, Any]:
    result: dict[str, Any] = {
        "cluster": svc.cluster_arn,
        "serviceName": svc.name,
        "serviceArn": svc.arn,
        "infrastructureRoleArn": svc.infrastructure_role_arn,
        "status": {"statusCode": svc.status()},
        "activeConfigurations": [_public_config(svc, r) for r in svc.active_revisions()],
        "createdAt": svc.created_at,
        "updatedAt": svc.updated_at,
    }
    current = svc.current_deployment()
    if current is not None:
        result["currentDeployment"] = current.arn
    if include_tags:
        result["tags"] = list((svc.ecs_service.tags if svc.ecs_service else []) or [])
    return result


def _managed_resources(svc: _Express, revision: _Revision) -> dict[str, Any]:
    alb = revision.alb
    status = svc.resource_status()
    shared_status = svc.resource_status(shared=True)
    updated = svc.updated_at
    container = revision.config["primaryContainer"]
    scaling = revision.config["scalingTarget"]
    ingress = {
        "accessType": "PUBLIC" if alb.scheme == "internet-facing" else "PRIVATE",
        "endpoint": svc.endpoint,
        "loadBalancer": {
            "arn": alb.arn,
            "status": shared_status,
            "updatedAt": alb.created_at,
            "scheme": alb.scheme,
            "subnetIds": list(alb.subnets),
            "securityGroupIds": [alb.sg_id],
        },
        "loadBalancerSecurityGroups": [{"arn": alb.sg_arn, "status": shared_status, "updatedAt": alb.created_at}],
        "certificate": {
            "arn": svc.certificate_arn(),
            "status": status,
            "updatedAt": svc.created_at,
            "domainName": svc.endpoint,
        },
        "listener": {"arn": alb.listener_arn, "status": shared_status, "updatedAt": alb.created_at},
        "rule": {"arn": svc.rule_arn(alb), "status": status, "updatedAt": updated},
        "targetGroups": [
            {
                "arn": svc.target_group_arn(revision.tg_index),
                "status": status,
                "updatedAt": revision.created_at,
                "healthCheckPath": revision.config["healthCheckPath"],
                "healthCheckPort": container["containerPort"],
                "port": container["containerPort"],
            }
        ],
    }
    resources: dict[str, Any] = {
        "ingressPaths": [ingress],
        "autoScaling": {
            "scalableTarget": {
                "arn": svc.scalable_target_arn(),
                "status": status,
                "updatedAt": revision.created_at,
                "minCapacity": scaling["minTaskCount"],
                "maxCapacity": scaling["maxTaskCount"],
            },
            "applicationAutoScalingPolicies": [
                {
                    "arn": svc.policy_arn(),
                    "status": status,
                    "updatedAt": revision.created_at,
                    "policyType": "TargetTrackingScaling",
                    "targetValue": float(scaling["autoScalingTargetValue"]),
                    "metric": SCALING_METRICS[scaling["autoScalingMetric"]],
                }
            ],
        },
        "metricAlarms": [{"arn": svc.alarm_arn(), "status": status, "updatedAt": svc.created_at}],
        "serviceSecurityGroups": [{"arn": svc.service_sg_arn(), "status": status, "updatedAt": svc.created_at}],
        "logGroups": [
            {
                "arn": svc.log_group_arn(),
                "status": status,
                "updatedAt": svc.created_at,
                "logGroupName": container["awsLogsConfiguration"]["logGroup"],
            }
        ],
    }
    return resources


def _revision_wire(svc: _Express, revision: _Revision) -> dict[str, Any]:
    network = revision.config["_network"]
    container = revision.config["primaryContainer"]
    tg_arn = svc.target_group_arn(revision.tg_index)
    return {
        "serviceRevisionArn": revision.arn,
        "serviceArn": svc.arn,
        "clusterArn": svc.cluster_arn,
        "taskDefinition": revision.task_definition,
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}],
        "platformVersion": "1.4.0",
        "platformFamily": "Linux",
        "loadBalancers": [
            {"targetGroupArn": tg_arn, "containerName": MAIN_CONTAINER, "containerPort": container["containerPort"]}
        ],
        "serviceRegistries": [],
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": list(network["subnets"]),
                "securityGroups": list(network["securityGroups"]) + ([svc.service_sg_id] if svc.service_sg_id else []),
                "assignPublicIp": "ENABLED" if revision.alb.scheme == "internet-facing" else "DISABLED",
            }
        },
        "containerImages": [
            {"containerName": MAIN_CONTAINER, "imageDigest": revision.image_digest, "image": container["image"]}
        ],
        "guardDutyEnabled": False,
        "createdAt": revision.created_at,
        "resolvedConfiguration": {
            "loadBalancers": [{"targetGroupArn": tg_arn, "productionListenerRule": svc.rule_arn(revision.alb)}]
        },
        "ecsManagedResources": _managed_resources(svc, revision),
    }


def _revision_summary(svc: _Express, revision: _Revision, requested: bool, running: bool | None = None) -> dict[str, Any]:
    """A revision's share of a deployment: its tasks (all requested ones running unless
    ``running`` says otherwise) and its traffic."""
    count = revision.config["scalingTarget"]["minTaskCount"] if requested else 0
    return {
        "arn": revision.arn,
        "requestedTaskCount": count,
        "runningTaskCount": count if running is not False else 0,
        "pendingTaskCount": 0,
        "requestedProductionTrafficWeight": 100.0 if requested else 0.0,
        "requestedTestTrafficWeight": 0.0,
    }


def _outcome(deployment: _Deployment) -> dict[str, Any]:
    """How a deployment ended, as ``ServiceDeployment`` and ``ServiceDeploymentBrief`` say it:
    ``finishedAt`` or ``stoppedAt`` and ``statusReason`` (nothing while it runs)."""
    status = deployment.status()
    if status == "SUCCESSFUL":
        return {"finishedAt": deployment.finished_at(), "statusReason": "Service deployment succeeded."}
    if status == "STOPPED":
        return {"stoppedAt": deployment.stopped_at, "statusReason": "Service deployment stopped by a newer deployment."}
    if status == "ROLLBACK_SUCCESSFUL":
        return {"finishedAt": deployment.finished_at(), "statusReason": ROLLED_BACK}
    if status == "ROLLBACK_FAILED":
        return {"finishedAt": deployment.finished_at(), "statusReason": ROLLBACK_IMPOSSIBLE}
    return {}


def _deployment_wire(deployment: _Deployment) -> dict[str, Any]:
    svc = deployment.service
    status = deployment.status()
    failed = status in ("ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")
    monitoring = "MONITORING" if status == "IN_PROGRESS" else "MONITORING_COMPLETE"
    outcome = _outcome(deployment)
    # Sources keep their tasks until the target has replaced them, and get them back on a
    # rollback; a target that failed is scaled in (rolled back) or never runs (stalled).
    sources_run = status in ("IN_PROGRESS", "STOPPED", "ROLLBACK_SUCCESSFUL")
    result: dict[str, Any] = {
        "serviceDeploymentArn": deployment.arn,
        "serviceArn": svc.arn,
        "clusterArn": svc.cluster_arn,
        "createdAt": deployment.created_at,
        "startedAt": deployment.created_at,
        "updatedAt": outcome.get("finishedAt") or deployment.stopped_at or deployment.created_at,
        "sourceServiceRevisions": [_revision_summary(svc, r, sources_run) for r in deployment.sources],
        "targetServiceRevision": _revision_summary(
            svc,
            deployment.target,
            status != "ROLLBACK_SUCCESSFUL",
            running=status != "ROLLBACK_FAILED",
        ),
        "status": status,
        "deploymentConfiguration": _deployment_configuration(svc),
        "deploymentCircuitBreaker": {
            "status": "TRIGGERED" if failed else monitoring,
            "failureCount": deployment.threshold() if failed else 0,
            "threshold": deployment.threshold(),
        },
        "alarms": {"status": monitoring, "alarmNames": [svc.alarm_name], "triggeredAlarmNames": []},
        **outcome,
    }
    if failed:
        rollback: dict[str, Any] = {"reason": CIRCUIT_BREAKER_FAILURE, "startedAt": deployment.finished_at()}
        if deployment.restore is not None:
            rollback["serviceRevisionArn"] = deployment.restore.target.arn
        result["rollback"] = rollback
    if status == "IN_PROGRESS":
        result["lifecycleStage"] = "BAKE_TIME"
    return result


def _deployment_configuration(svc: _Express) -> dict[str, Any]:
    return {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "alarms": {"alarmNames": [svc.alarm_name], "rollback": True, "enable": True},
        "strategy": "CANARY",
        "bakeTimeInMinutes": 3,
        "canaryConfiguration": {"canaryPercent": 5.0, "canaryBakeTimeInMinutes": 3},
    }


# ---------------------------------------------------------------------------------------------
# the ECS service object of an Express service


def _deployment_entry(
    deployment: _Deployment, role: str, service: Service, running: int, rollout: str, reason: str, updated: datetime
) -> dict[str, Any]:
    """One entry of ``DescribeServices`` -> ``deployments[]`` (``role`` PRIMARY or ACTIVE)."""
    return {
        "id": deployment.id,
        "status": role,
        "taskDefinition": deployment.target.task_definition,
        "desiredCount": service.desired_count,
        "pendingCount": 0,
        "runningCount": running,
        "failedTasks": deployment.threshold() if rollout == "FAILED" else 0,
        "createdAt": deployment.created_at,
        "updatedAt": updated,
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}],
        "platformVersion": "1.4.0",
        "platformFamily": "Linux",
        "networkConfiguration": service.network_configuration,
        "rolloutState": rollout,
        "rolloutStateReason": reason,
    }


def _classic_deployments(svc: _Express, service: Service, current: _Deployment | None) -> list[dict[str, Any]]:
    """``deployments[]`` as ECS lists them for the rolling-update view of the service.

    While a deployment runs: it (PRIMARY, IN_PROGRESS) and the one serving before it (ACTIVE).
    After a rollback: the deployment rolled back to, PRIMARY and COMPLETED again (the failed
    one has no tasks left and is gone). A deployment that failed with nothing to roll back to
    stays PRIMARY with rollout state FAILED.
    """
    if not svc.deployments:
        return []
    newest = svc.deployments[-1]
    status = newest.status()
    if current is not None:
        entries = [
            _deployment_entry(
                newest, "PRIMARY", service, 0, "IN_PROGRESS", f"ECS deployment {newest.id} in progress.", newest.created_at
            )
        ]
        before = svc.deployments[-2] if len(svc.deployments) > 1 else None
        serving = (before.completed() or before) if before is not None else None
        if newest.sources and serving is not None:
            entries.append(
                _deployment_entry(
                    serving,
                    "ACTIVE",
                    service,
                    service.desired_count,
                    "COMPLETED",
                    f"ECS deployment {serving.id} completed.",
                    serving.finished_at(),
                )
            )
        return entries
    if status == "ROLLBACK_SUCCESSFUL" and newest.restore is not None:
        restored = newest.restore
        return [
            _deployment_entry(
                restored,
                "PRIMARY",
                service,
                service.running_count,
                "COMPLETED",
                f"ECS deployment {restored.id} completed.",
                newest.finished_at(),
            )
        ]
    if status == "ROLLBACK_FAILED":
        return [_deployment_entry(newest, "PRIMARY", service, 0, "FAILED", CIRCUIT_BREAKER_FAILURE, newest.finished_at())]
    return [
        _deployment_entry(
            newest,
            "PRIMARY",
            service,
            service.running_count,
            "COMPLETED",
            f"ECS deployment {newest.id} completed.",
            newest.finished_at(),
        )
    ]


def _tell(svc: _Express, service: Service, message: str) -> None:
    service.events.insert(0, {"id": str(mock_random.uuid4()), "createdAt": utcnow(), "message": message})


def _sync_ecs_service(svc: _Express) -> None:
    service = svc.ecs_service
    if service is None:
        return
    in_service = svc.current_revision()
    container = in_service.config["primaryContainer"]
    network = in_service.config["_network"]
    desired = in_service.config["scalingTarget"]["minTaskCount"]
    status = svc.status()
    stalled = svc.stalled()
    service.status = status
    service.task_definition = in_service.task_definition
    service.load_balancers = [
        {
            "targetGroupArn": svc.target_group_arn(in_service.tg_index),
            "containerName": MAIN_CONTAINER,
            "containerPort": container["containerPort"],
        }
    ]
    service.network_configuration = {
        "awsvpcConfiguration": {
            "subnets": list(network["subnets"]),
            "securityGroups": list(network["securityGroups"]) + ([svc.service_sg_id] if svc.service_sg_id else []),
            "assignPublicIp": "ENABLED" if in_service.alb.scheme == "internet-facing" else "DISABLED",
        }
    }
    current = svc.current_deployment()
    if status == "ACTIVE":
        service.desired_count = desired
        service.running_count = 0 if stalled else desired
        service.pending_count = 0
    else:
        service.desired_count = 0
        service.running_count = 0 if status == "INACTIVE" else service.running_count
        service.pending_count = 0
    service.deployments = _classic_deployments(svc, service, current) if status != "INACTIVE" else []
    if current is not None:
        service.current_service_deployment = current.arn
    elif svc.deployments:
        service.current_service_deployment = svc.deployments[-1].arn
    running = 0 if stalled else desired
    service.current_service_revisions = [
        {"arn": r.arn, "requestedTaskCount": desired, "runningTaskCount": running, "pendingTaskCount": 0}
        for r in svc.active_revisions()
    ]
    if not current and svc.deployments and status == "ACTIVE":
        newest = svc.deployments[-1]
        if newest.fails and not newest.told:
            newest.told = True
            _tell(svc, service, f"(service {svc.name}) (deployment {newest.id}) deployment failed: tasks failed to start.")
            if newest.restore is not None:
                _tell(svc, service, f"(service {svc.name}) rolling back to deployment {newest.restore.id}.")
        steady = f"(service {svc.name}) has reached a steady state."
        if not stalled and (not service.events or service.events[0].get("message") != steady):
            _tell(svc, service, steady)


def _new_ecs_service(backend: Any, cluster: Cluster, svc: _Express, tags: list[dict[str, str]]) -> Service:
    latest = svc.current_revision()
    container = latest.config["primaryContainer"]
    network = latest.config["_network"]
    td = backend.describe_task_definition(latest.task_definition)
    service = Service(
        cluster=cluster,
        service_name=svc.name,
        desired_count=latest.config["scalingTarget"]["minTaskCount"],
        backend=backend,
        task_definition=td,
        load_balancers=[
            {
                "targetGroupArn": svc.target_group_arn(latest.tg_index),
                "containerName": MAIN_CONTAINER,
                "containerPort": container["containerPort"],
            }
        ],
        tags=[dict(t) for t in tags],
        deployment_controller={"type": "ECS"},
        launch_type=None,
        network_configuration={
            "awsvpcConfiguration": {
                "subnets": list(network["subnets"]),
                "securityGroups": list(network["securityGroups"]) + [svc.service_sg_id],
                "assignPublicIp": "ENABLED" if latest.alb.scheme == "internet-facing" else "DISABLED",
            }
        },
        propagate_tags="SERVICE",
    )
    service.launch_type = None
    service.capacity_provider_strategy = [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]
    service.platform_version = "LATEST"
    service.platform_family = "Linux"
    service.resource_management_type = "ECS"
    service.created_by = svc.infrastructure_role_arn
    service.created_at = svc.created_at
    service.enable_ecs_managed_tags = True
    service.enable_execute_command = False
    service.health_check_grace_period_seconds = 0
    service.availability_zone_rebalancing = "ENABLED"
    service.deployment_configuration = _deployment_configuration(svc)
    service.placement_constraints = []
    service.placement_strategy = []
    service.role_arn = None
    service.events = []
    return service


# ---------------------------------------------------------------------------------------------
# time-driven transitions


def tick(backend: Any) -> None:
    """Apply what time has done to the Express services of ``backend`` (drained, deployed) and
    mirror it on their ECS service objects."""
    state = backend.__dict__.get(_STATE_ATTR)
    if state is None:
        return
    with LOCK:
        for svc in state.services.values():
            if svc.status() == "INACTIVE" and not svc.cleaned:
                svc.cleaned = True
                _detach_alb(svc)
                _delete_sg(svc.ec2, svc.service_sg_id)
            _sync_ecs_service(svc)


def _cluster_for(backend: Any, name_or_arn: str | None, create_default: bool) -> Cluster:
    name = (name_or_arn or "default").split("/")[-1]
    cluster = backend.clusters.get(name)
    if cluster is None or cluster.status != "ACTIVE":
        if name == "default" and create_default:
            cluster = backend.create_cluster(
                "default",
                capacity_providers=["FARGATE", "FARGATE_SPOT"],
                default_capacity_provider_strategy=[{"capacityProvider": "FARGATE", "weight": 1, "base": 0}],
            )
        else:
            raise EcsError("ClusterNotFoundException", "Cluster not found.")
    return cluster


def _lookup(backend: Any, service_arn: str | None) -> _Express:
    if not service_arn:
        raise invalid("serviceArn can not be null or empty.")
    parts = service_arn.split(":")
    if len(parts) < 6 or parts[2] != "ecs" or not parts[5].startswith("service/"):
        raise invalid(f"Invalid ARN: {service_arn}")
    path = parts[5].split("/")
    if len(path) != 3:
        raise invalid(f"Invalid ARN: {service_arn}")
    if parts[3] != backend.region_name or parts[4] != backend.account_id:
        raise invalid(f"Resource not found: {service_arn}")
    cluster = backend.clusters.get(path[1])
    if cluster is None:
        raise EcsError("ClusterNotFoundException", "Cluster not found.")
    svc = _state(backend).services.get(service_arn)
    if svc is None:
        raise invalid(f"Resource not found: {service_arn}")
    return svc


def _not_active(svc: _Express) -> None:
    status = svc.status()
    if status == "DRAINING":
        raise EcsError("ServiceNotActiveException", "Service is in DRAINING status")
    if status == "INACTIVE":
        raise EcsError("ServiceNotActiveException", "Cannot perform this operation on a service in INACTIVE status")


def _default_name(params: dict[str, Any]) -> str:
    image = ((params.get("primaryContainer") or {}).get("image") or "express").split("@")[0]
    base = image.split("/")[-1].split(":")[0] or "express"
    cleaned = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in base)[:200].strip("-") or "express"
    return f"{cleaned}-{_hex(4)}"


def _valid_name(name: str) -> bool:
    return 0 < len(name) <= 255 and all(ch.isalnum() or ch in "-_" for ch in name)


def _failing_services(account_id: str) -> set[str]:
    """The names of the services whose deployments the setting ``ecs.express_fail_services``
    makes fail (a list of names, or one name)."""
    value = settings.get(account_id, FAIL_SETTING, []) or []
    if isinstance(value, str):
        return {value}
    return {str(name) for name in value}


def _start_deployment(backend: Any, svc: _Express, revision: _Revision, sources: list[_Revision]) -> _Deployment:
    state = _state(backend)
    for running in svc.deployments:
        if running.stopped_at is None and not running.done():
            running.stopped_at = utcnow()
    duration = float(settings.get(backend.account_id, DEPLOY_SETTING, 0) or 0)
    fails = svc.name in _failing_services(backend.account_id)
    deployment = _Deployment(svc, revision, sources, duration, fails, svc.last_completed())
    svc.deployments.append(deployment)
    state.deployments[deployment.arn] = deployment
    return deployment


# ---------------------------------------------------------------------------------------------
# Express operations


def create_express_gateway_service(self: Any) -> ActionResult:
    backend = self.ecs_backend
    params = self._get_params()
    with LOCK:
        tick(backend)
        infra_role = params.get("infrastructureRoleArn")
        if not infra_role:
            raise invalid("infrastructureRoleArn can not be null or empty.")
        cluster = _cluster_for(backend, params.get("cluster"), create_default=True)
        name = params.get("serviceName") or _default_name(params)
        if not _valid_name(name):
            raise invalid(
                "Service name can have up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens."
            )
        existing = backend.services.get(f"{cluster.name}:{name}")
        if existing is not None and existing.status != "INACTIVE":
            raise invalid("Creation of service was not idempotent.")

        svc = _Express(backend, cluster, name, infra_role)
        config, explicit_td, (vpc_id, subnets, public) = _build_config(backend, svc, params, None)
        tags = [{"key": t.get("key"), "value": t.get("value", "")} for t in (params.get("tags") or [])]
        if len(tags) > 50:
            raise invalid("Too many tags. A resource can have up to 50 tags.")

        svc.service_sg_id = _create_sg(
            svc.ec2,
            f"{cluster.name}-{name}-{vpc_id}-{_hex(4)}",
            f"Managed by Amazon ECS Express Mode for service {name}",
            vpc_id,
        )
        alb = _attach_alb(backend, svc, vpc_id, subnets, public)
        task_definition = explicit_td or _register_task_definition(backend, svc, config)
        if explicit_td:
            task_definition = backend.describe_task_definition(explicit_td).arn
        revision = _Revision(svc, config, task_definition, 0, alb)
        svc.revisions.append(revision)
        state = _state(backend)
        state.revisions[revision.arn] = revision
        _start_deployment(backend, svc, revision, [])
        svc.ecs_service = _new_ecs_service(backend, cluster, svc, tags)
        backend.services[f"{cluster.name}:{name}"] = svc.ecs_service
        state.services[svc.arn] = svc
        _sync_ecs_service(svc)
        return ActionResult({"service": _express_wire(svc, include_tags=bool(tags))})


def describe_express_gateway_service(self: Any) -> ActionResult:
    backend = self.ecs_backend
    include = self._get_param("include") or []
    for item in include:
        if item != "TAGS":
            raise invalid(f"Invalid include value {item}. Valid values: TAGS.")
    with LOCK:
        tick(backend)
        svc = _lookup(backend, self._get_param("serviceArn"))
        return ActionResult({"service": _express_wire(svc, include_tags="TAGS" in include)})


def update_express_gateway_service(self: Any) -> ActionResult:
    backend = self.ecs_backend
    params = self._get_params()
    with LOCK:
        tick(backend)
        svc = _lookup(backend, params.get("serviceArn"))
        _not_active(svc)
        previous = svc.current_revision()
        config, explicit_td, (vpc_id, subnets, public) = _build_config(backend, svc, params, previous.config)
        if vpc_id != svc.alb.vpc_id:
            raise invalid("The VPC of an Express service can't be changed.")
        alb = _attach_alb(backend, svc, vpc_id, subnets, public)
        if explicit_td:
            task_definition = backend.describe_task_definition(explicit_td).arn
        else:
            keys = ("primaryContainer", "cpu", "memory", "cpuArchitecture", "executionRoleArn", "taskRoleArn")
            unchanged = "taskDefinitionArn" not in previous.config and all(
                config.get(k) == previous.config.get(k) for k in keys
            )
            task_definition = previous.task_definition if unchanged else _register_task_definition(backend, svc, config)
        revision = _Revision(svc, config, task_definition, previous.tg_index + 1, alb)
        svc.revisions.append(revision)
        _state(backend).revisions[revision.arn] = revision
        _start_deployment(backend, svc, revision, [previous])
        svc.updated_at = utcnow()
        _sync_ecs_service(svc)
        result = {
            "serviceArn": svc.arn,
            "cluster": svc.cluster_arn,
            "serviceName": svc.name,
            "status": {"statusCode": svc.status()},
            "targetConfiguration": _public_config(svc, revision),
            "createdAt": svc.created_at,
            "updatedAt": svc.updated_at,
        }
        return ActionResult({"service": result})


def delete_express_gateway_service(self: Any) -> ActionResult:
    backend = self.ecs_backend
    with LOCK:
        tick(backend)
        svc = _lookup(backend, self._get_param("serviceArn"))
        _not_active(svc)
        _mark_deleted(backend, svc)
        return ActionResult({"service": _express_wire(svc, include_tags=False)})


def _mark_deleted(backend: Any, svc: _Express) -> None:
    for running in svc.deployments:
        if running.stopped_at is None and not running.done():
            running.stopped_at = utcnow()
    svc.drain_for = float(settings.get(backend.account_id, DRAIN_SETTING, 0) or 0)
    svc.delete_mono = _now_mono()
    svc.deleted_at = utcnow()
    svc.updated_at = svc.deleted_at
    tick(backend)


# ---------------------------------------------------------------------------------------------
# service revisions and deployments


def _described(
    self: Any, param: str, table: Callable[[_State], dict[str, T]], wire: Callable[[T], dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """What a Describe call of the 1..20 ARNs in ``param`` answers (ECS refuses none and more):
    ``wire`` of each one found in ``table``, and a MISSING failure for each other one."""
    backend = self.ecs_backend
    arns = self._get_param(param) or []
    if not arns:
        raise invalid(f"{param} can not be null or empty.")
    if len(arns) > 20:
        raise invalid(f"{param} can have at most 20 items.")
    with LOCK:
        tick(backend)
        known = table(_state(backend))
        found, failures = [], []
        for arn in arns:
            item = known.get(arn)
            if item is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(wire(item))
        return found, failures


def _described_revision(revision: _Revision) -> dict[str, Any]:
    if revision.service.status() == "INACTIVE":
        raise invalid("Cannot call DescribeServiceRevisions for a service that is INACTIVE")
    return _revision_wire(revision.service, revision)


def describe_service_revisions(self: Any) -> ActionResult:
    revisions, failures = _described(self, "serviceRevisionArns", lambda s: s.revisions, _described_revision)
    return ActionResult({"serviceRevisions": revisions, "failures": failures})


def describe_service_deployments(self: Any) -> ActionResult:
    found, failures = _described(self, "serviceDeploymentArns", lambda s: s.deployments, _deployment_wire)
    return ActionResult({"serviceDeployments": found, "failures": failures})


def _as_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value
    try:
        return datetime.fromtimestamp(float(value), tz=timezone.utc).replace(tzinfo=None)
    except (TypeError, ValueError):
        return None


def list_service_deployments(self: Any) -> ActionResult:
    backend = self.ecs_backend
    service_ref = self._get_param("service")
    if not service_ref:
        raise invalid("service can not be null or empty.")
    statuses = self._get_param("status") or []
    created = self._get_param("createdAt") or {}
    max_results = self._get_param("maxResults")
    token = self._get_param("nextToken")
    if max_results is not None and not 1 <= int(max_results) <= 100:
        raise invalid("maxResults must be between 1 and 100.")
    with LOCK:
        tick(backend)
        cluster = _cluster_for(backend, self._get_param("cluster") or (service_ref.split("/")[-2] if service_ref.count("/") == 2 else None), False)
        name = service_ref.split("/")[-1]
        service = backend.services.get(f"{cluster.name}:{name}")
        if service is None:
            raise EcsError("ServiceNotFoundException", "Service not found.")
        svc = _state(backend).services.get(service.arn)
        deployments = list(reversed(svc.deployments)) if svc is not None and svc.ecs_service is service else []
        after, before = _as_datetime(created.get("after")), _as_datetime(created.get("before"))
        items = []
        for deployment in deployments:
            status = deployment.status()
            if statuses and status not in statuses:
                continue
            created_at = deployment.created_at.replace(tzinfo=None) if deployment.created_at.tzinfo else deployment.created_at
            if after is not None and created_at < after:
                continue
            if before is not None and created_at > before:
                continue
            brief: dict[str, Any] = {
                "serviceDeploymentArn": deployment.arn,
                "serviceArn": svc.arn,
                "clusterArn": svc.cluster_arn,
                "startedAt": deployment.created_at,
                "createdAt": deployment.created_at,
                "targetServiceRevisionArn": deployment.target.arn,
                "status": status,
            }
            outcome = _outcome(deployment)
            if "finishedAt" in outcome:
                brief["finishedAt"] = outcome["finishedAt"]
            if status.startswith("ROLLBACK_"):
                brief["statusReason"] = outcome["statusReason"]
            items.append(brief)
        start = _decode_index(token) if token else 0
        limit = int(max_results) if max_results is not None else 20
        page = items[start : start + limit]
        result: dict[str, Any] = {"serviceDeployments": page}
        if start + limit < len(items):
            result["nextToken"] = _encode_index(start + limit)
        return ActionResult(result)


def _encode_index(index: int) -> str:
    """A nextToken of ListServiceDeployments: the page starting at ``index``."""
    return encode_token({"i": index})


def _decode_index(token: str) -> int:
    return decode_token(token, invalid_token, lambda data: int(data["i"]))


def express_service(backend: Any, service: Service | None) -> _Express | None:
    """The Express service whose ECS service object is ``service``, if it is one."""
    svc = _state(backend).services.get(service.arn) if service is not None else None
    return svc if svc is not None and svc.ecs_service is service else None


def delete_express(backend: Any, svc: _Express) -> None:
    """Delete ``svc`` as ``DeleteExpressGatewayService`` does (``ServiceNotActiveException``
    unless it is ACTIVE)."""
    _not_active(svc)
    _mark_deleted(backend, svc)


def install() -> None:
    cls = EC2ContainerServiceResponse
    install_handlers(
        cls,
        create_express_gateway_service,
        describe_express_gateway_service,
        update_express_gateway_service,
        delete_express_gateway_service,
        describe_service_revisions,
        describe_service_deployments,
        list_service_deployments,
    )
