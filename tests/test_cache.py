"""The Redis cache as configured for REDIS_URL: every call bounded when Redis never answers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import caches

from clinic_service.settings import redis_cache
from tests.delivery.support import BlackHole

# Every operation of Django's cache API that reaches Redis.
OPERATIONS: dict[str, Callable[[Any], Any]] = {
    "add": lambda cache: cache.add("k", 1, timeout=5),
    "get": lambda cache: cache.get("k"),
    "set": lambda cache: cache.set("k", 1, timeout=5),
    "touch": lambda cache: cache.touch("k", timeout=5),
    "delete": lambda cache: cache.delete("k"),
    "has_key": lambda cache: cache.has_key("k"),
    "incr": lambda cache: cache.incr("k"),
    "get_many": lambda cache: cache.get_many(["k", "j"]),
    "set_many": lambda cache: cache.set_many({"k": 1, "j": 2}, timeout=5),
    "delete_many": lambda cache: cache.delete_many(["k", "j"]),
    "clear": lambda cache: cache.clear(),
}
# What a loaded CI machine may add to a timeout.
MARGIN_SECONDS = 1.5


def _timed(call: Callable[[], Any], *, limit: float) -> tuple[float, BaseException | None]:
    """Run `call` in a daemon thread; (seconds taken, what it raised). Fails if it outlives `limit`,
    so a call that hangs fails the test instead of hanging the suite."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        started = time.monotonic()
        try:
            call()
        except BaseException as exc:  # the caller asserts on it
            outcome["error"] = exc
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=limit)
    assert "seconds" in outcome, f"still waiting after {limit} s"
    return outcome["seconds"], outcome.get("error")


@pytest.fixture
def hung_cache(settings):
    hole = BlackHole()
    settings.CACHES = {"default": redis_cache(hole.url("redis", "/0"))}
    yield caches["default"]
    hole.close()


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_a_cache_call_gives_up_within_the_socket_timeout_when_redis_never_answers(
    hung_cache, settings, operation
):
    # given
    limit = settings.REDIS_CONNECT_TIMEOUT_SECONDS + settings.REDIS_SOCKET_TIMEOUT_SECONDS + MARGIN_SECONDS
    # when
    seconds, error = _timed(lambda: OPERATIONS[operation](hung_cache), limit=limit)
    # then
    assert error is not None, "a Redis that never answers cannot have answered"
    assert seconds < limit


def test_after_one_timeout_cache_calls_fail_at_once_until_the_retry_pause(hung_cache, settings):
    # given: one call has waited out its timeout
    settings.REDIS_RETRY_AFTER_SECONDS = 60
    _timed(lambda: hung_cache.get("k"), limit=5)
    # when: every other operation (requests' rate limits, wake-up marks) in the pause
    for operation in sorted(OPERATIONS):
        seconds, error = _timed(lambda op=operation: OPERATIONS[op](hung_cache), limit=5)
        # then
        assert error is not None
        assert seconds < 0.2, f"{operation} waited {seconds:.2f} s"


def test_the_cache_is_tried_again_after_the_retry_pause(hung_cache, settings):
    # given
    settings.REDIS_RETRY_AFTER_SECONDS = 0.2
    _timed(lambda: hung_cache.get("k"), limit=5)
    time.sleep(0.3)  # the pause itself is what is under test
    # when
    seconds, error = _timed(lambda: hung_cache.get("k"), limit=5)
    # then: it asked Redis again (and waited for it again)
    assert error is not None
    assert seconds >= settings.REDIS_SOCKET_TIMEOUT_SECONDS * 0.9
