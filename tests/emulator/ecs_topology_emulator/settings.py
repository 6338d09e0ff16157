"""Per-account emulator settings that extensions read: operation delays and similar knobs.

Settings are set through the admin endpoint ``POST /_emulator/settings`` (see ``realism``) for a
list of accounts or ``"*"`` (the default for every account), and wiped by ``/moto-api/reset``.
Extensions read them with ``get(account_id, name, default)``.

Known names (seconds unless said otherwise):
- ``servicediscovery.operation_delay``: SUBMITTED -> PENDING -> SUCCESS takes this long (PENDING
  from a third of it on).
- ``servicediscovery.creator_request_id_ttl``: how long a ``CreatorRequestId`` is remembered.
- ``ram.client_token_ttl``: how long a RAM ``clientToken`` is remembered.
- ``ram.organization_accounts``: the accounts an Organization or OU principal reaches (a list).
- ``ec2.vpc_endpoint_pending``: a new endpoint is ``pending`` this long, then ``available``.
- ``ec2.vpc_endpoint_deleted_visible``: a deleted endpoint stays listed as ``deleted`` this long
  (default 0: gone at once).
- ``ec2.vpc_peering_provisioning``: an accepted peering connection is ``provisioning`` this long
  (the accepter's setting; default 0), then ``active``.
- ``ec2.vpc_peering_expiry``: an unaccepted request turns ``expired`` after this long (the
  requester's setting; default 604800, AWS's seven days).
- ``ec2.vpc_peering_deleting``: a deleted inter-Region connection is ``deleting`` this long (the
  deleter's setting; default 0), then ``deleted``.
- ``ec2.vpc_peering_ended_visible``: a ``failed``, ``rejected``, ``expired`` or ``deleted``
  connection stays listed this long for this account (default: AWS's 2 hours or 2 days, as
  ``ec2_peering`` says), then is unknown to it.
- ``ecs.express_deploy``: a create/update deployment of an Express service takes this long.
- ``ecs.express_drain``: a deleted Express service is DRAINING this long, then INACTIVE.
- ``ecs.express_fail_services``: names of Express services (a list) whose deployments fail: a
  create or update started while the name is listed runs ``ecs.express_deploy`` seconds, then
  the circuit breaker fails it and ECS rolls back to the last deployment that completed
  (``ROLLBACK_SUCCESSFUL``), or, with none, stalls (``ROLLBACK_FAILED``). See ``ecs_express``.
- ``ecs.service_deploy``: a deployment of a classic ECS service (CreateService, UpdateService) is
  ``IN_PROGRESS`` this long, then ``COMPLETED`` (default 0.5).
- ``ecs.service_fail_services``: names of classic ECS services (a list) whose deployments fail:
  a deployment started while the name is listed runs ``ecs.service_deploy`` seconds, then is
  ``FAILED`` and ECS rolls back to the last deployment that completed (another
  ``ecs.service_deploy`` seconds), or, with none, it stays ``FAILED``. See ``ecs_deployments``.
- ``events.delivery_delay``: a mutating call's CloudTrail event reaches the calling account's
  default event bus this long after the call (default 0: before the reply leaves; the calling
  account's setting). See ``cloudtrail``.
- ``events.drop_fraction``: the fraction (0..1, not seconds) of those events silently dropped,
  as CloudTrail delivers best effort (default 0; the calling account's setting).
"""

import threading

_lock = threading.Lock()
_by_account: dict[str, dict] = {}


def get(account_id: str, name: str, default=None):
    with _lock:
        for key in (account_id, "*"):
            values = _by_account.get(key)
            if values is not None and name in values:
                return values[name]
    return default


def update(accounts: list[str], values: dict) -> None:
    with _lock:
        for account in accounts:
            _by_account.setdefault(account, {}).update(values)


def snapshot() -> dict:
    with _lock:
        return {k: dict(v) for k, v in _by_account.items()}


def reset() -> None:
    with _lock:
        _by_account.clear()
