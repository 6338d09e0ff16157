"""EventBridge delivery as AWS does it: rules on a bus, other accounts' buses and SQS queues.

moto keeps buses, rules, targets and bus policies and matches event patterns (lists, ``prefix``,
``anything-but``, ``exists``, nested ``detail`` fields). What it lacks, and this module adds by
replacing ``Rule.send_to_targets``:

- A DISABLED rule delivers nothing (moto delivered through every rule).
- An event bus target (``arn:aws:events:<region>:<account>:event-bus/<name>``) receives the
  event itself, unchanged: the same ``id``, ``account`` (the account the event happened in),
  ``region``, ``time``, ``resources`` and ``detail``, and the rules of that bus see it as it
  is. moto re-sent it as a new event with a new id and the receiving account as ``account``.
- A bus of another account accepts the event only when its resource policy admits the sending
  account (the rule's owner): an ``Allow`` statement for ``events:PutEvents`` (or ``events:*``)
  whose principal is ``*``, the account id, ``arn:aws:iam::<account>:root`` or any IAM ARN of that
  account, and whose conditions, if any, hold. The one condition understood is
  ``aws:PrincipalOrgID`` (``StringEquals``): it holds when the bus owner's setting
  ``ram.organization_accounts`` (the emulator's notion of the Organization, shared with RAM)
  lists the sender; any other condition key does not hold. A denied event is dropped silently,
  as AWS counts it as a failed invocation. moto delivered without looking at the policy.
- An SQS target receives the event JSON as the message body, with keys in AWS's order
  (``version``, ``id``, ``detail-type``, ``source``, ``account``, ``time``, ``region``,
  ``resources``, ``detail``) and ``time`` as ``YYYY-MM-DDTHH:MM:SSZ``; the queue is the one the
  target ARN names (its account and region). moto added its own ``ingestion-time`` field to the
  body, always used the rule's account and ignored ``Input`` and ``InputPath``; here ``Input``
  replaces the event, ``InputPath`` selects part of it and ``InputTransformer`` goes through
  moto's template parser, as before.
- Other target types (CloudWatch Logs, archives, API destinations) are delivered by moto.

An event travels at most five buses (AWS stops cycles between buses the same way), and a
target that fails (a missing queue or bus) fails alone.

``listening(account, region)`` tells, without creating anything, whether the account's default
bus in that region has a rule: callers check it before building an event, so that an account
nobody listens to pays nothing. ``deliver(event)`` sends an event to the default bus of its
``account`` and ``region``.
"""

from __future__ import annotations

import copy
import json
import threading
from datetime import datetime, timezone
from typing import Any

from . import settings

ORGANIZATION_SETTING = "ram.organization_accounts"
MAX_BUS_HOPS = 5
_EVENT_KEYS = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")

_hops = threading.local()


def _backend(account: str, region: str):
    """The events backend of (account, region) if it exists; never creates one."""
    from moto.events.models import events_backends

    per_account = dict.get(events_backends, account)
    if per_account is None:
        return None
    return dict.get(per_account, region)


def listening(account: str, region: str) -> bool:
    """Whether the default bus of (account, region) has a rule."""
    backend = _backend(account, region)
    if backend is None:
        return False
    bus = backend.event_buses.get("default")
    return bool(bus is not None and bus.rules)


def deliver(event: dict[str, Any]) -> None:
    """Send ``event`` (an EventBridge event: ``account``, ``region``, ...) to the rules of the
    default bus of its account and region."""
    backend = _backend(event["account"], event["region"])
    if backend is None:
        return
    bus = backend.event_buses.get("default")
    if bus is not None:
        _to_rules(bus, event)


def _to_rules(bus: Any, event: dict[str, Any]) -> None:
    for rule in list(bus.rules.values()):
        try:
            rule.send_to_targets(copy.deepcopy(event))
        except Exception:  # noqa: BLE001 - one failing rule never stops the others
            continue


def _iso_time(value: Any) -> Any:
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def _body(event: dict[str, Any]) -> dict[str, Any]:
    """The event as AWS delivers it to a target."""
    body = {key: event[key] for key in _EVENT_KEYS if key in event}
    if "time" in body:
        body["time"] = _iso_time(body["time"])
    return body


def _principals(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        principal = principal.get("AWS")
    if isinstance(principal, str):
        return [principal]
    if isinstance(principal, list):
        return [str(p) for p in principal]
    return []


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement.get("Action")
    return [action] if isinstance(action, str) else list(action or [])


def _principal_admits(principal: str, sender: str) -> bool:
    if principal in ("*", sender):
        return True
    parts = principal.split(":")
    return principal.startswith("arn:") and len(parts) >= 6 and parts[2] == "iam" and parts[4] == sender


def _conditions_hold(conditions: dict[str, Any], sender: str, owner: str) -> bool:
    for operator, tests in (conditions or {}).items():
        if operator != "StringEquals" or not isinstance(tests, dict):
            return False
        for key, value in tests.items():
            if key.lower() != "aws:principalorgid":
                return False
            members = [str(m) for m in (settings.get(owner, ORGANIZATION_SETTING, []) or [])]
            if sender not in members:
                return False
    return True


def admits(bus: Any, sender: str) -> bool:
    """Whether ``bus`` accepts events sent by a rule of account ``sender``."""
    if sender == bus.account_id:
        return True
    policy = json.loads(bus.policy) if bus.policy else {}
    for statement in policy.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        if not any(a in ("events:PutEvents", "events:*", "*") for a in _actions(statement)):
            continue
        if not any(_principal_admits(p, sender) for p in _principals(statement)):
            continue
        if _conditions_hold(statement.get("Condition") or {}, sender, bus.account_id):
            return True
    return False


def _to_bus(rule: Any, arn: Any, event: dict[str, Any]) -> None:
    from moto.events.models import events_backends

    depth = getattr(_hops, "depth", 0)
    if depth >= MAX_BUS_HOPS:
        return
    backend = events_backends[arn.account][arn.region]
    bus = backend.event_buses.get(arn.resource_id)
    if bus is None or not admits(bus, rule.account_id):
        return
    _hops.depth = depth + 1
    try:
        _to_rules(bus, event)
    finally:
        _hops.depth = depth


def _input(target: dict[str, Any], event: dict[str, Any]) -> Any:
    """What a target receives: ``Input``, the ``InputPath`` of the event, the event through the
    ``InputTransformer``, or the whole event."""
    if target.get("Input"):
        return target["Input"]
    body = _body(event)
    if target.get("InputPath"):
        from jsonpath_ng.ext import parse

        found = parse(target["InputPath"]).find(body)
        return found[0].value if found else None
    transformer = target.get("InputTransformer")
    if transformer:
        from moto.events.utils import EventTemplateParser

        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event={**body, "ingestion-time": event.get("ingestion-time", 0)},
        )
    return body


def _to_queue(arn: Any, body: Any, group_id: str | None) -> None:
    from moto.sqs import sqs_backends

    text = body if isinstance(body, str) else json.dumps(body)
    sqs_backends[arn.account][arn.region].send_message(
        queue_name=arn.resource_id, message_body=text, group_id=group_id
    )


def install() -> None:
    from moto.events.models import Rule
    from moto.utilities.arns import parse_arn

    moto_send = Rule.send_to_targets

    def send_to_targets(self: Any, original_event: dict[str, Any], transform_input: bool = True) -> None:
        if getattr(self, "state", "ENABLED") != "ENABLED":
            return
        if not self.event_pattern.matches_event(original_event):
            return
        others = []
        for target in self.targets:
            try:
                arn = parse_arn(target["Arn"])
                if arn.service == "events" and arn.resource_type == "event-bus":
                    _to_bus(self, arn, original_event)
                elif arn.service == "sqs":
                    body = _input(target, original_event) if transform_input else _body(original_event)
                    group_id = target.get("SqsParameters", {}).get("MessageGroupId")
                    _to_queue(arn, body, group_id)
                else:
                    others.append(target)
            except Exception:  # noqa: BLE001 - a failed invocation: the event is lost for it
                continue
        if others:
            rest = copy.copy(self)
            rest.targets = others
            moto_send(rest, original_event, transform_input)

    Rule.send_to_targets = send_to_targets
