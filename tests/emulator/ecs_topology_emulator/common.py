"""What the service extensions share: request fingerprints, paging tokens and client tokens.

AWS APIs page with an opaque ``nextToken`` and make creates idempotent with a client token
(``clientToken``, ``ClientToken``, ``CreatorRequestId``). Each service says in its own module
how it spells and checks them; the mechanics are here, once.

- ``fingerprint(value)``: a SHA-256 hex digest of the value's canonical JSON (keys sorted,
  values JSON cannot hold written with ``str``). Equal for equal requests however their keys
  were ordered; what a paging token or a client token is bound to.
- Paging tokens are the URL-safe base64 of a small JSON object (``encode_token``), opaque to
  clients. ``decode_token`` reads one back (missing ``=`` padding tolerated) and raises the
  calling service's own error for anything it cannot read. ``encode_offset_token`` and
  ``decode_offset_token`` are the form Cloud Map and RAM use: an offset into the request's
  result list plus the first 16 hex digits of the request's fingerprint, so that a token is
  refused (the service's error) when the next page is asked with other filters.
- ``ClientTokens`` remembers, per key (typically ``(operation, token)`` or just the token), the
  fingerprint of the first request that used a token and what it answered, optionally for a
  limited time (``ttl`` seconds; ``None``: for as long as the backend lives). ``recall`` answers
  that first answer when the same request comes again, raises the service's mismatch error when
  another request reuses the token, and answers ``None`` when the token is new or expired.
  ``token_ttl`` reads a service's per-account TTL setting. A ``ClientTokens`` lives on the
  backend it belongs to, so ``/moto-api/reset`` forgets it with everything else.
- ``number_setting(account_id, setting, default)``: a per-account setting that is a number
  (a delay, a fraction, a TTL), ``default`` when it is unset or not a number.
- ``install_handlers(cls, *handlers)``: each handler in place of the method of moto's response
  class that has its name.
- ``backend_state(backend, attr, make)``: an extension's own bookkeeping kept in the backend's
  ``__dict__`` under ``attr`` (made by ``make()`` on first use), so that ``/moto-api/reset``,
  which replaces the backends, forgets it too.
- EC2 ``Filters`` (``parse_filters``, ``filtered``), the ids a Describe call names (``named``) and ``TagSpecifications``
  (``tag_specifications``) as EC2 reads them for every resource type: a filter names a supported
  field or ``tag:<key>`` and matches when any value matches any pattern (``*`` and ``?``
  wildcards); a tag specification names the resource type the call creates, or none.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from . import settings

T = TypeVar("T")

# Paging tokens carry this many hex digits of the request's fingerprint.
TOKEN_FINGERPRINT_DIGITS = 16


def fingerprint(value: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of ``value``."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


# --- paging tokens ----------------------------------------------------------------------------


def encode_token(fields: dict[str, Any]) -> str:
    """An opaque paging token holding ``fields``."""
    return base64.urlsafe_b64encode(json.dumps(fields).encode()).decode()


def decode_token(token: Any, invalid: Callable[[], Exception], read: Callable[[dict[str, Any]], T]) -> T:
    """``read`` applied to the fields of ``token``; ``invalid()`` is raised when the token is not
    one of ours or ``read`` fails on it (a missing field, a value of the wrong type)."""
    try:
        text = str(token)
        data = json.loads(base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode()))
        if not isinstance(data, dict):
            raise ValueError(token)
        return read(data)
    except Exception:  # noqa: BLE001 - whatever the client sent, the answer is the service's error
        raise invalid() from None


def encode_offset_token(offset: int, request: Any) -> str:
    """A token for the page starting at ``offset`` of the results of ``request``."""
    return encode_token({"o": offset, "f": fingerprint(request)[:TOKEN_FINGERPRINT_DIGITS]})


def decode_offset_token(token: Any, request: Any, invalid: Callable[[], Exception]) -> int:
    """The offset of ``token`` (0 when there is none); ``invalid()`` when it is not a token of
    ``request`` (another request's filters, a negative offset, anything unreadable)."""
    if token is None:
        return 0
    expected = fingerprint(request)[:TOKEN_FINGERPRINT_DIGITS]

    def read(data: dict[str, Any]) -> int:
        offset = int(data["o"])
        if data["f"] != expected or offset < 0:
            raise ValueError(token)
        return offset

    return decode_token(token, invalid, read)


# --- installing ---------------------------------------------------------------------------------


def install_handlers(cls: type, *handlers: Callable[..., Any]) -> None:
    """Each of ``handlers`` in place of the method of ``cls`` that has its name."""
    for handler in handlers:
        setattr(cls, handler.__name__, handler)


# --- state kept on a backend -----------------------------------------------------------------


def backend_state(backend: Any, attr: str, make: Callable[[], T]) -> T:
    """The state kept on ``backend`` under ``attr``; made with ``make()`` the first time."""
    state = backend.__dict__.get(attr)
    if state is None:
        state = make()
        backend.__dict__[attr] = state
    return state


# --- EC2 filters and tag specifications -------------------------------------------------------


def _filter_matches(value: Any, patterns: list[str]) -> bool:
    """Whether ``value`` (or any of a list of values) matches any of ``patterns``."""
    if value is None:
        return False
    values = value if isinstance(value, list) else [value]
    return any(fnmatch.fnmatchcase(str(v), str(p)) for v in values for p in patterns)


def filtered(
    items: list[T],
    filters: list[tuple[str, list[str]]],
    tags: Callable[[T], dict[str, str]],
    field: Callable[[T, str], Any],
) -> list[T]:
    """The ``items`` every filter matches: ``tag:<key>`` compares the item's value of that tag,
    ``tag-key`` its tag keys (both from ``tags(item)``), any other name ``field(item, name)``
    (``None``: matches nothing)."""

    def value(item: T, name: str) -> Any:
        if name.startswith("tag:"):
            return tags(item).get(name[4:])
        if name == "tag-key":
            return list(tags(item).keys())
        return field(item, name)

    for name, patterns in filters:
        items = [item for item in items if _filter_matches(value(item, name), patterns)]
    return items


def parse_filters(
    response: Any, supported: set[str], invalid: Callable[[str], Exception]
) -> list[tuple[str, list[str]]]:
    """The (name, patterns) of the ``Filters`` (or ``Filter``) of an EC2 request (a moto
    ``EC2Response``); ``invalid(message)`` for a filter without a name or with one that is
    neither in ``supported`` nor ``tag:<key>``."""
    filters = []
    for item in response._get_param("Filters", []) or response._get_param("Filter", []) or []:
        name = item.get("Name")
        if not name:
            raise invalid("The filter 'null' is invalid")
        if name not in supported and not name.startswith("tag:"):
            raise invalid(f"The filter '{name}' is invalid")
        values = item.get("Values") or item.get("Value") or []
        if isinstance(values, str):
            values = [values]
        filters.append((name, [str(v) for v in values]))
    return filters


def named(items: list[T], ids: list[str], not_found: Callable[[str], Exception]) -> list[T]:
    """The ``items`` whose ``id`` is one of ``ids`` (all of them when ``ids`` is empty);
    ``not_found(id)`` for the first of ``ids`` that is none of theirs."""
    if not ids:
        return items
    known = {item.id for item in items}  # type: ignore[attr-defined]
    for item_id in ids:
        if item_id not in known:
            raise not_found(item_id)
    wanted = set(ids)
    return [item for item in items if item.id in wanted]  # type: ignore[attr-defined]


def tag_specifications(raw: Any, resource_type: str, invalid: Callable[[str], Exception]) -> dict[str, str]:
    """The tags of EC2's ``TagSpecifications``; ``invalid(message)`` when one names another
    resource type than ``resource_type``."""
    tags: dict[str, str] = {}
    for spec in raw or []:
        named = spec.get("ResourceType")
        if named and named != resource_type:
            raise invalid(f"'{named}' is not a valid taggable resource type for this operation.")
        for tag in spec.get("Tags") or spec.get("Tag") or []:
            tags[tag["Key"]] = tag.get("Value", "")
    return tags


# --- client tokens ----------------------------------------------------------------------------


def number_setting(account_id: str, setting: str, default: float) -> float:
    """The per-account setting ``setting`` as a number, ``default`` when unset or not a number."""
    try:
        return float(settings.get(account_id, setting, default))
    except (TypeError, ValueError):
        return default


def token_ttl(account_id: str, setting: str, default: float) -> float:
    """The per-account setting ``setting`` in seconds, ``default`` when unset or not a number."""
    return number_setting(account_id, setting, default)


class ClientTokens:
    """The client tokens one backend has seen: key -> (request fingerprint, answer, when)."""

    def __init__(self) -> None:
        # key -> (fingerprint of the first request, its answer, time.time() when it was made)
        self._seen: dict[Hashable, tuple[str, Any, float]] = {}

    def recall(
        self,
        key: Hashable,
        request_fingerprint: str,
        *,
        ttl: float | None,
        mismatch: Callable[[Any], Exception],
    ) -> Any | None:
        """The answer to the first request with ``key`` if ``request_fingerprint`` is that
        request's; ``None`` when ``key`` is unknown or older than ``ttl`` seconds.

        Raises ``mismatch(first answer)`` when ``key`` was used by another request.
        """
        seen = self._seen.get(key)
        if seen is None:
            return None
        first, answer, at = seen
        if ttl is not None and time.time() - at >= ttl:
            return None
        if first != request_fingerprint:
            raise mismatch(answer)
        return answer

    def remember(self, key: Hashable, request_fingerprint: str, answer: Any) -> None:
        """Record the request that used ``key`` and what it answered (replacing an expired one)."""
        self._seen[key] = (request_fingerprint, answer, time.time())
