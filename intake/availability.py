"""Keeping requests fast when Redis or PostgreSQL hang: a circuit breaker per Redis address and
a wall-clock deadline for a blocking call run in a helper thread.

A dependency that accepts connections and never answers (a frozen Redis, a stalled network
path) is worse than one that is down: every call waits for its timeout. Socket timeouts
(settings REDIS_*_TIMEOUT_SECONDS) bound each call; the breaker makes the first failure cost one
timeout per process and the calls after it fail at once until REDIS_RETRY_AFTER_SECONDS have
passed; the deadline bounds what socket timeouts cannot (name resolution, a call made of several
round trips).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar
from urllib.parse import urlsplit

from django.conf import settings

__all__ = [
    "Breaker",
    "DeadlineExceeded",
    "DependencyUnavailable",
    "Lane",
    "address_of",
    "breaker_for",
    "breakers_reset",
    "wait_for_result",
]

T = TypeVar("T")


class DependencyUnavailable(ConnectionError):
    """A dependency failed recently; the call was not attempted (it fails at once instead)."""


class DeadlineExceeded(TimeoutError):
    """The call did not finish within its deadline; it goes on in its helper thread until its own
    socket timeouts end it, and its result is dropped."""


class Breaker:
    """Open for REDIS_RETRY_AFTER_SECONDS after a failure: calls fail at once instead of each
    waiting out a timeout. The first call after that is tried again (and closes it on success).

    Per process and thread-safe enough: its state is one float, written whole.
    """

    def __init__(self, address: str) -> None:
        self.address = address
        self._open_until = 0.0

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def check(self) -> None:
        """Raise DependencyUnavailable while open."""
        if self.is_open:
            raise DependencyUnavailable(f"{self.address} failed recently; not tried again yet")

    def trip(self) -> None:
        self._open_until = time.monotonic() + settings.REDIS_RETRY_AFTER_SECONDS

    def close(self) -> None:
        if self._open_until:
            self._open_until = 0.0


_breakers: dict[str, Breaker] = {}
_breakers_lock = threading.Lock()


def address_of(url: str) -> str:
    """`redis://:secret@host:6379/4` → `host:6379`: one breaker per server, whatever the database
    number (broker, result backend and cache share it); never the credentials."""
    parts = urlsplit(url)
    if parts.hostname:
        return f"{parts.hostname}:{parts.port or 6379}"
    return parts.path or url


def breaker_for(address: str) -> Breaker:
    with _breakers_lock:
        breaker = _breakers.get(address)
        if breaker is None:
            breaker = _breakers[address] = Breaker(address)
        return breaker


def breakers_reset() -> None:
    """Close every breaker (tests, which point one process at many servers in turn)."""
    with _breakers_lock:
        _breakers.clear()


class Lane:
    """Helper threads that run blocking calls for callers who wait at most a deadline.

    With `single_flight`, a call whose previous one is still running (hung) is refused at once
    rather than queued, so a probe repeated against a hung dependency holds one thread, not one
    per probe. Threads start on first use, so forked processes (gunicorn, Celery) make their own.
    """

    def __init__(self, name: str, *, threads: int, single_flight: bool = False) -> None:
        self.name = name
        self.threads = threads
        self.single_flight = single_flight
        self._executor: ThreadPoolExecutor | None = None
        self._running: Future[Any] | None = None
        self._lock = threading.Lock()
        os.register_at_fork(after_in_child=self._forget_threads)

    def _forget_threads(self) -> None:
        # A forked child has none of its parent's threads; the executor's state is the parent's.
        self._executor = None
        self._running = None
        self._lock = threading.Lock()

    @property
    def busy(self) -> bool:
        running = self._running
        return running is not None and not running.done()

    def submit(self, function: Callable[[], T]) -> Future[T]:
        """Start `function()` in a helper thread; DeadlineExceeded at once if single-flight and busy."""
        with self._lock:
            if self.single_flight and self.busy:
                raise DeadlineExceeded(f"{self.name}: the previous call has not finished")
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix=self.name)
            future = self._executor.submit(function)
            if self.single_flight:
                self._running = future
        return future

    def call(self, function: Callable[[], T], *, seconds: float) -> T:
        """`function()`'s result, or DeadlineExceeded after `seconds` (its exceptions propagate)."""
        return wait_for_result(self.name, self.submit(function), seconds=seconds)


def wait_for_result(name: str, future: Future[T], *, seconds: float) -> T:
    """The future's result, or DeadlineExceeded after `seconds` (then it never starts if it has not)."""
    try:
        return future.result(timeout=max(0.0, seconds))
    except FutureTimeout:
        future.cancel()  # not started yet (every thread busy): never runs
        raise DeadlineExceeded(f"{name}: no answer within {seconds:g} s") from None
