"""The OAuth 2.0 endpoints (`/o/token/`, `/o/revoke_token/`): django-oauth-toolkit's views behind
a brute-force lockout, answering in the OAuth error format (RFC 6749 §5.2) even when they fail.

Every failed client authentication (401 `invalid_client`) counts against the client id and
against the caller's address (resolved as django-axes resolves it for staff logins). After
`OAUTH_TOKEN_FAILURE_LIMIT` failures within `OAUTH_TOKEN_COOLOFF_HOURS`, either one is locked out
for that long: `429 slow_down` with Retry-After, before any secret is hashed, even for the right
secret. A success resets its own client id's count and only withdraws its own attempt from the
address's, so it never lifts a lockout earned against other ids from that address.

Attempts are counted before the secret is checked, so concurrent guesses cannot overshoot the
limit. Counters live in the cache (Redis when `REDIS_URL` is set), shared by every worker.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import math
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote_plus

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from oauth2_provider import views as oauth2_views

logger = logging.getLogger(__name__)

# When the shared cache is down the lockout falls back to this process's memory: the limit then
# holds per worker (so at most workers × limit guesses per window) instead of not at all, and
# integrations can still get tokens. Failing closed would stop every integration whenever Redis
# blinks; failing wide open would hand an attacker unbounded hashing (0.35 s of CPU each).
_LOCAL_FALLBACK = LocMemCache("oauth-lockout-fallback", {"OPTIONS": {"MAX_ENTRIES": 10000}})

_DATABASE_RETRY_AFTER_SECONDS = 5

_T = TypeVar("_T")

KEY_PREFIX = "oauth"  # of every counter and lockout key (in the cache's own KEY_PREFIX)


def _clock() -> float:
    return time.time()


@dataclass(frozen=True)
class Subject:
    """What failures are counted against: a client id or a caller's address (hashed in keys)."""

    kind: str
    value: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def offered_client_id(request: HttpRequest) -> str | None:
    """The client id this request authenticates as, read as DOT reads it: HTTP Basic first
    (form-urlencoded inside, RFC 6749 §2.3.1), then the `client_id` body parameter."""
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme == "Basic" and encoded:
        try:
            decoded = base64.b64decode(encoded).decode(request.encoding or settings.DEFAULT_CHARSET)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            decoded = ""
        if ":" in decoded:
            return unquote_plus(decoded.split(":", 1)[0])
    client_id = request.POST.get("client_id")
    return client_id or None


class TokenLockout:
    """Failure counters and lockouts for one token-endpoint request (see the module docstring)."""

    def __init__(self, request: HttpRequest) -> None:
        client_id = offered_client_id(request)
        address = get_client_ip_address(request)
        self.subjects = [
            Subject(kind, value) for kind, value in (("client", client_id), ("address", address)) if value
        ]
        self.limit: int = settings.OAUTH_TOKEN_FAILURE_LIMIT
        self.cooloff_seconds = float(settings.OAUTH_TOKEN_COOLOFF_HOURS) * 3600
        self.now = _clock()
        self.window = int(self.now // self.cooloff_seconds)

    def _failures_key(self, subject: Subject) -> str:
        return f"{KEY_PREFIX}:failures:{subject.kind}:{subject.digest}:{self.window}"

    @staticmethod
    def _lock_key(subject: Subject) -> str:
        return f"{KEY_PREFIX}:lockout:{subject.kind}:{subject.digest}"

    def _run(self, operation: Callable[..., _T], *args: Any) -> _T:
        try:
            return operation(cache, *args)
        except Exception:  # noqa: BLE001 - the cache (Redis) is down: count in this process instead
            logger.warning("token lockout counted in process memory: the cache is unavailable")
            return operation(_LOCAL_FALLBACK, *args)

    @property
    def _timeout(self) -> int:
        return math.ceil(self.cooloff_seconds) + 1

    def locked_for(self) -> float | None:
        """Seconds until every lockout on this request's subjects ends; None when there is none."""
        keys = [self._lock_key(s) for s in self.subjects]
        found = self._run(_get_many, keys) if keys else {}
        remaining = [until - self.now for until in found.values() if until > self.now]
        return max(remaining) if remaining else None

    def count_attempt(self) -> float | None:
        """Count this attempt as a failure until it proves otherwise; when that takes a subject
        over the limit, lock it and return the lockout's length (else None)."""
        counts = {s: self._run(_increment, self._failures_key(s), self._timeout) for s in self.subjects}
        over = [subject for subject, count in counts.items() if count > self.limit]
        if not over:
            return None
        self._lock(over)
        for subject in counts.keys() - set(over):  # refused unheard: no attempt against the others
            self._run(_decrement, self._failures_key(subject))
        return self.cooloff_seconds

    def failed(self) -> None:
        """The attempt failed: lock whichever subject it brought to the limit."""
        counts = self._run(_get_many, [self._failures_key(s) for s in self.subjects])
        reached = [s for s in self.subjects if counts.get(self._failures_key(s), 0) >= self.limit]
        if reached:
            self._lock(reached)

    def not_failed(self, *, authenticated: bool) -> None:
        """The attempt was no failed authentication: withdraw it. A client that proved its secret
        starts its own count afresh, as staff logins do (AXES_RESET_ON_SUCCESS); the address's
        count keeps other ids' failures."""
        for subject in self.subjects:
            key = self._failures_key(subject)
            if authenticated and subject.kind == "client":
                self._run(_delete, key)
            else:
                self._run(_decrement, key)

    def _lock(self, subjects: list[Subject]) -> None:
        until = self.now + self.cooloff_seconds
        for subject in subjects:
            logger.warning("token endpoint: %s locked out for %.0f s", subject.kind, self.cooloff_seconds)
            self._run(_set, self._lock_key(subject), until, self._timeout)


# Cache operations, each run against the shared cache or, when it is down, the local fallback.


def _get_many(c: BaseCache, keys: list[str]) -> dict[str, Any]:
    return c.get_many(keys)


def _increment(c: BaseCache, key: str, timeout: int) -> int:
    c.add(key, 0, timeout=timeout)
    try:
        return int(c.incr(key))
    except ValueError:  # expired between add and incr: this attempt starts a new count
        c.set(key, 1, timeout=timeout)
        return 1


def _decrement(c: BaseCache, key: str) -> None:
    with suppress(ValueError):  # the window ended meanwhile: nothing left to withdraw
        c.decr(key)


def _delete(c: BaseCache, key: str) -> None:
    c.delete(key)


def _set(c: BaseCache, key: str, value: float, timeout: int) -> None:
    c.set(key, value, timeout=timeout)


def oauth_error(
    status: int, error: str, description: str, *, retry_after: float | None = None
) -> JsonResponse:
    """An RFC 6749 §5.2 error response (no-store, as §5.1 asks of token responses)."""
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    if retry_after is not None:
        response["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return response


def _locked_out(seconds: float) -> JsonResponse:
    # `slow_down` is the token-endpoint error the IANA OAuth registry holds for "polling too
    # fast" (RFC 8628 §3.5); RFC 6749 itself has no code for rate limiting.
    return oauth_error(
        429,
        "slow_down",
        "Too many failed client authentications for this client id or from this address; "
        f"retry after {max(1, math.ceil(seconds))} seconds.",
        retry_after=seconds,
    )


class _GuardedEndpoint:
    """Mixin for DOT's endpoint views: lockout first, DOT's answer, then the count."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        lockout = TokenLockout(request)
        locked = lockout.locked_for() or lockout.count_attempt()
        if locked is not None:
            return _locked_out(locked)
        try:
            response: HttpResponse = super().post(request, *args, **kwargs)  # type: ignore[misc]
        except (OperationalError, InterfaceError):
            # DOT lets these through as a 500 (an HTML page outside our API prefixes' handlers).
            logger.warning("token endpoint: the database is unavailable", exc_info=True)
            lockout.not_failed(authenticated=False)  # an outage proves nothing against the caller
            return oauth_error(
                503,
                "temporarily_unavailable",
                "The authorization server's database is unavailable; retry shortly.",
                retry_after=_DATABASE_RETRY_AFTER_SECONDS,
            )
        if response.status_code == 401:
            lockout.failed()
        else:
            lockout.not_failed(authenticated=response.status_code == 200)
        return response


class TokenView(_GuardedEndpoint, oauth2_views.TokenView):
    """`POST /o/token/` (client credentials)."""


class RevokeTokenView(_GuardedEndpoint, oauth2_views.RevokeTokenView):
    """`POST /o/revoke_token/` (RFC 7009): it authenticates the client too."""
