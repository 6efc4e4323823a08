"""The Redis cache backend (CACHES when REDIS_URL is set): Django's own, with every command behind
the Redis server's circuit breaker (intake.availability).

The cache is called on the request path (the rate limiter on every API request, the webhook
wake-up mark after a commit). Socket timeouts in OPTIONS bound each command; the breaker makes a
hung or stopped Redis cost one timeout per process every REDIS_RETRY_AFTER_SECONDS, not one per
request. Callers already treat a cache error as "Redis is down" and carry on without it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

from .availability import breaker_for

__all__ = ["RedisCache"]

_FAILURES = (redis.ConnectionError, redis.TimeoutError)


def _through_breaker(pool: redis.ConnectionPool, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`call(*args, **kwargs)`, at once refused while the server's breaker is open, and tripping it
    when the server does not answer."""
    kwargs_of_pool = pool.connection_kwargs
    breaker = breaker_for(
        f"{kwargs_of_pool['host']}:{kwargs_of_pool.get('port', 6379)}"
        if "host" in kwargs_of_pool
        else str(kwargs_of_pool.get("path"))
    )
    breaker.check()
    try:
        result = call(*args, **kwargs)
    except _FAILURES:
        breaker.trip()
        raise
    breaker.close()
    return result


class _GuardedPipeline(redis.client.Pipeline):
    """Commands queued, then sent in one round trip behind the breaker (`set_many` uses this)."""

    def execute(self, raise_on_error: bool = True) -> list[Any]:
        result: list[Any] = _through_breaker(self.connection_pool, super().execute, raise_on_error)
        return result


class _GuardedRedis(redis.Redis):
    """A redis-py client whose commands go through the server's breaker."""

    def execute_command(self, *args: Any, **options: Any) -> Any:
        return _through_breaker(self.connection_pool, super().execute_command, *args, **options)

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> _GuardedPipeline:
        return _GuardedPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)


class _GuardedClient(RedisCacheClient):
    def __init__(self, servers: Any, **options: Any) -> None:
        super().__init__(servers, **options)
        self._client = _GuardedRedis


class RedisCache(DjangoRedisCache):
    """`django.core.cache.backends.redis.RedisCache` behind the breaker; same LOCATION and OPTIONS."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _GuardedClient
