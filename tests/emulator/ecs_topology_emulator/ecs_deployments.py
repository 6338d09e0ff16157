"""Rolling-update deployments of classic ECS services, as ``DescribeServices`` shows them.

Stock moto gives a service one ``deployments[]`` entry for its whole life (``IN_PROGRESS`` for
ever unless an environment variable says tasks run) and changes nothing on ``UpdateService``.
This module keeps, for every service that ``CreateService`` made (not Express services, which
``ecs_express`` deploys), the history of its deployments and derives ``deployments[]`` from it
whenever the service is read. State lives on moto's ``Service`` objects, so ``/moto-api/reset``
wipes it.

- ``CreateService`` starts the first deployment. ``UpdateService`` starts a new one when the
  request carries a parameter that the API reference says triggers a new deployment
  (``taskDefinition``, ``networkConfiguration``, ``platformVersion``, ``loadBalancers``,
  ``serviceRegistries``, ``serviceConnectConfiguration``, ``volumeConfigurations``,
  ``vpcLatticeConfigurations``) or ``forceNewDeployment``; other changes (``desiredCount``, ...)
  only update the deployments in place. A deployment carries the task definition, network
  configuration, launch type, platform version and the Service Connect configuration and
  resources it deploys; a new one inherits what the request does not change.
- A deployment is ``IN_PROGRESS`` for the per-account setting ``ecs.service_deploy`` seconds
  (default 0.5), then ``COMPLETED``. While it runs it is ``PRIMARY`` and the deployment that was
  serving before (the last one that completed) is ``ACTIVE`` and ``COMPLETED``; afterwards only
  the new one is listed (the replaced one is ``INACTIVE``, which ``DescribeServices`` leaves out).
  A deployment started while another runs replaces it at once.
- Failed deployments: a deployment of a service listed in the per-account setting
  ``ecs.service_fail_services`` (a list of names, or one name; decided when the deployment
  starts) runs ``ecs.service_deploy`` seconds and then fails as the deployment circuit breaker
  fails it (``rolloutState`` ``FAILED``, ``rolloutStateReason`` ``ECS deployment circuit
  breaker: tasks failed to start.``, ``failedTasks`` = the circuit breaker threshold, half the
  desired tasks within 3..200). ECS then rolls the service back to the last deployment that
  completed: for another ``ecs.service_deploy`` seconds that deployment is ``PRIMARY`` and
  ``IN_PROGRESS`` again (the service's ``taskDefinition`` and Service Connect configuration
  are its own again) while the failed one is ``ACTIVE`` and ``FAILED``; then the restored one
  is ``PRIMARY`` and ``COMPLETED`` and the failed one is gone. The events tell it: ``(service S)
  (deployment D) deployment failed: tasks failed to start.`` and ``(service S) rolling back to
  deployment R.``. With no deployment that completed (a failed create, and updates that all
  failed after it) there is nothing to roll back to: the failed deployment stays ``PRIMARY``
  and ``FAILED``. This mirrors ``ecs.express_fail_services`` of Express services.
"""

from __future__ import annotations

import copy
import time
from datetime import datetime, timedelta
from typing import Any

from moto.core.utils import utcnow
from moto.moto_api._internal import mock_random

from . import settings

DEPLOY_SETTING = "ecs.service_deploy"
FAIL_SETTING = "ecs.service_fail_services"
DEFAULT_DEPLOY = 0.5
CIRCUIT_BREAKER_FAILURE = "ECS deployment circuit breaker: tasks failed to start."
# UpdateService parameters whose documentation says "This parameter triggers a new service
# deployment" (the API reference, as botocore's model carries it).
TRIGGERS = (
    "taskDefinition",
    "networkConfiguration",
    "platformVersion",
    "loadBalancers",
    "serviceRegistries",
    "serviceConnectConfiguration",
    "volumeConfigurations",
    "vpcLatticeConfigurations",
)
_STATE_ATTR = "_ecs_topology_deployments"


def _digits(n: int) -> str:
    return str(mock_random.randint(1, 9)) + "".join(str(mock_random.randint(0, 9)) for _ in range(n - 1))


class Deployment:
    """One deployment: ``spec`` (what it deploys) over ``duration`` seconds from its start.

    ``fails`` is decided when it starts; ``restore`` is the deployment that had completed last
    when it started (what the circuit breaker rolls back to).
    """

    def __init__(self, spec: dict[str, Any], duration: float, fails: bool, restore: "Deployment | None"):
        self.id = f"ecs-svc/{_digits(19)}"
        self.spec = spec
        self.created_at: datetime = utcnow()
        self.created_mono = time.monotonic()
        self.duration = float(duration)
        self.fails = fails
        self.restore = restore
        self.told = False

    def at(self, seconds: float) -> datetime:
        return self.created_at + timedelta(seconds=seconds)

    def phase(self) -> str:
        """``RUNNING``, ``COMPLETED``, ``STALLED`` (failed, nothing to restore), ``ROLLING_BACK``
        or ``ROLLED_BACK``."""
        elapsed = time.monotonic() - self.created_mono
        if elapsed < self.duration:
            return "RUNNING"
        if not self.fails:
            return "COMPLETED"
        if self.restore is None:
            return "STALLED"
        return "ROLLING_BACK" if elapsed < 2 * self.duration else "ROLLED_BACK"

    def last_completed(self) -> "Deployment | None":
        """The last deployment that completed, as a deployment started now would find it."""
        return self if self.phase() == "COMPLETED" else self.restore

    def in_service(self) -> "Deployment":
        """The deployment whose configuration the service has while this one is the newest."""
        if self.phase() in ("ROLLING_BACK", "ROLLED_BACK") and self.restore is not None:
            return self.restore
        return self


def history(service: Any) -> list[Deployment] | None:
    """The deployments of a service this module deploys (``None`` for any other service)."""
    return service.__dict__.get(_STATE_ATTR)


def _failing(account_id: str) -> set[str]:
    value = settings.get(account_id, FAIL_SETTING, []) or []
    if isinstance(value, str):
        return {value}
    return {str(name) for name in value}


def spec_of(service: Any, service_connect: dict[str, Any] | None, resources: list[dict[str, str]]) -> dict[str, Any]:
    """What a deployment of ``service`` as it now stands deploys."""
    return copy.deepcopy(
        {
            "taskDefinition": service.task_definition,
            "networkConfiguration": service.network_configuration or None,
            "launchType": service.launch_type,
            "platformVersion": service.platform_version,
            "capacityProviderStrategy": getattr(service, "capacity_provider_strategy", None),
            "serviceConnectConfiguration": service_connect,
            "serviceConnectResources": resources,
        }
    )


def start(service: Any, spec: dict[str, Any]) -> Deployment:
    """Start a deployment of ``spec`` on ``service`` (the first one, or one that replaces)."""
    deployments = service.__dict__.setdefault(_STATE_ATTR, [])
    account = service._backend.account_id
    duration = float(settings.get(account, DEPLOY_SETTING, DEFAULT_DEPLOY) or 0)
    restore = deployments[-1].last_completed() if deployments else None
    deployment = Deployment(spec, duration, service.name in _failing(account), restore)
    deployments.append(deployment)
    sync(service)
    return deployment


def current_spec(service: Any) -> dict[str, Any] | None:
    """What the service's definition is now (after a rollback, the restored deployment's)."""
    deployments = history(service)
    if not deployments:
        return None
    return deployments[-1].in_service().spec


def _threshold(service: Any) -> int:
    desired = int(service.desired_count or 0)
    return max(3, min(200, -(-desired // 2)))


def _entry(service: Any, deployment: Deployment, role: str, rollout: str, running: int, updated: datetime) -> dict[str, Any]:
    spec = deployment.spec
    desired = int(service.desired_count or 0)
    reasons = {
        "IN_PROGRESS": f"ECS deployment {deployment.id} in progress.",
        "COMPLETED": f"ECS deployment {deployment.id} completed.",
        "FAILED": CIRCUIT_BREAKER_FAILURE,
    }
    entry: dict[str, Any] = {
        "id": deployment.id,
        "status": role,
        "taskDefinition": spec["taskDefinition"],
        "desiredCount": desired,
        "pendingCount": max(desired - running, 0) if rollout == "IN_PROGRESS" else 0,
        "runningCount": running,
        "failedTasks": _threshold(service) if rollout == "FAILED" else 0,
        "createdAt": deployment.created_at,
        "updatedAt": updated,
        "launchType": spec["launchType"],
        "rolloutState": rollout,
        "rolloutStateReason": reasons[rollout],
    }
    if spec["platformVersion"]:
        entry["platformVersion"] = spec["platformVersion"]
    if spec["capacityProviderStrategy"]:
        entry["capacityProviderStrategy"] = spec["capacityProviderStrategy"]
    if spec["networkConfiguration"]:
        entry["networkConfiguration"] = spec["networkConfiguration"]
    if spec["serviceConnectConfiguration"] is not None:
        entry["serviceConnectConfiguration"] = spec["serviceConnectConfiguration"]
        entry["serviceConnectResources"] = spec["serviceConnectResources"]
    return entry


def _tell(service: Any, message: str) -> None:
    service.events.insert(0, {"id": str(mock_random.uuid4()), "createdAt": utcnow(), "message": message})


def sync(service: Any) -> None:
    """Bring ``service.deployments`` (and the definition a rollback restored) up to date."""
    deployments = history(service)
    if not deployments or service.status == "INACTIVE":
        return
    newest = deployments[-1]
    restore = newest.restore
    desired = int(service.desired_count or 0)
    phase = newest.phase()
    end = newest.at(newest.duration)
    if phase == "RUNNING":
        entries = [_entry(service, newest, "PRIMARY", "IN_PROGRESS", 0, newest.created_at)]
        if restore is not None:
            entries.append(_entry(service, restore, "ACTIVE", "COMPLETED", desired, restore.at(restore.duration)))
    elif phase == "COMPLETED":
        entries = [_entry(service, newest, "PRIMARY", "COMPLETED", desired, end)]
    elif phase == "STALLED":
        entries = [_entry(service, newest, "PRIMARY", "FAILED", 0, end)]
    elif phase == "ROLLING_BACK" and restore is not None:
        entries = [
            _entry(service, restore, "PRIMARY", "IN_PROGRESS", desired, end),
            _entry(service, newest, "ACTIVE", "FAILED", 0, end),
        ]
    else:
        assert restore is not None
        entries = [_entry(service, restore, "PRIMARY", "COMPLETED", desired, newest.at(2 * newest.duration))]
    service.deployments = entries
    service.task_definition = newest.in_service().spec["taskDefinition"]
    if newest.fails and phase != "RUNNING" and not newest.told:
        newest.told = True
        _tell(service, f"(service {service.name}) (deployment {newest.id}) deployment failed: tasks failed to start.")
        if restore is not None:
            _tell(service, f"(service {service.name}) rolling back to deployment {restore.id}.")


def sync_all(backend: Any) -> None:
    for service in list(backend.services.values()):
        if history(service):
            sync(service)
