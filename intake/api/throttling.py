"""Rate limits per integration client and per staff user (cache-backed: Redis when configured)."""

from __future__ import annotations

from typing import Any

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from .permissions import resolve_actor


class ActorRateThrottle(SimpleRateThrottle):
    """One bucket per caller: the `client` rate for integrations, the `user` rate for staff.

    Over the limit DRF answers 429 with Retry-After (rendered as problem details).
    """

    def __init__(self) -> None:
        # The scope, and so the rate, depends on the caller: chosen in allow_request.
        pass

    def allow_request(self, request: Any, view: Any) -> bool:
        actor = resolve_actor(request)
        if actor is None:
            return True  # the permission check has already refused the request
        self.scope = "client" if actor.client_id else "user"
        self.rate = str(api_settings.DEFAULT_THROTTLE_RATES[self.scope])
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        actor = resolve_actor(request)
        return None if actor is None else f"throttle:{actor.label}"
