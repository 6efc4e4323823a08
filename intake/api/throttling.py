"""Rate limits per integration client and per staff user (cache-backed: Redis when configured).

A fixed-window counter: one atomic increment per request, whatever the limit. (DRF's
SimpleRateThrottle keeps every request time in a list it re-writes on each request, which at
thousands of requests a minute costs more than the request itself.)
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from .permissions import resolve_actor

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """`"600/min"` → (600, 60)."""
    count, period = rate.split("/")
    return int(count), _PERIODS[period[0]]


def _count(key: str, *, timeout: int) -> int:
    cache.add(key, 0, timeout=timeout)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr: start the window again
        cache.set(key, 1, timeout=timeout)
        return 1


class ActorRateThrottle(BaseThrottle):
    """One counter per caller and window: the `client` rate for integrations, `user` for staff.

    Over the limit DRF answers 429 with Retry-After (rendered as problem details).
    """

    def __init__(self) -> None:
        self.retry_after: float | None = None

    def allow_request(self, request: Any, view: Any) -> bool:
        actor = resolve_actor(request)
        if actor is None:
            return True  # the permission check has already refused the request
        scope = "client" if actor.client_id else "user"
        limit, period = parse_rate(str(api_settings.DEFAULT_THROTTLE_RATES[scope]))
        now = time.time()
        window = int(now // period)
        key = f"throttle:{actor.label}:{period}:{window}"
        try:
            count = _count(key, timeout=period + 1)
        except Exception:  # noqa: BLE001 - the cache (Redis) is down: serve, do not fail the request
            logger.warning("rate limit not checked: the cache is unavailable")
            return True
        if count <= limit:
            return True
        self.retry_after = (window + 1) * period - now
        return False

    def wait(self) -> float | None:
        return self.retry_after
