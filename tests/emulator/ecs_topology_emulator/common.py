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
"""

from __future__ import annotations

import base64
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


# --- client tokens ----------------------------------------------------------------------------


def token_ttl(account_id: str, setting: str, default: float) -> float:
    """The per-account setting ``setting`` in seconds, ``default`` when unset or not a number."""
    try:
        return float(settings.get(account_id, setting, default))
    except (TypeError, ValueError):
        return default


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
