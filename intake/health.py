"""Liveness and readiness probes for load balancers and orchestrators.

`/readyz` answers within READINESS_TIMEOUT_SECONDS whatever hangs: each check runs in a helper
thread (one at a time per check and process, so probing a hung dependency holds one thread, not
one per probe) and a check that has not answered by the deadline is reported as failed. Its 503 is
an RFC 9457 problem document that still carries `checks` and `failed`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import Future

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, JsonResponse

from intake.api.problems import PROBLEM_CONTENT_TYPE, problem_body

from .availability import DeadlineExceeded, Lane, wait_for_result

_LANES = {
    "database": Lane("readyz-database", threads=1, single_flight=True),
    "broker": Lane("readyz-broker", threads=1, single_flight=True),
}


def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and serving (touches nothing: a hung dependency does not fail it)."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """The database and (when configured) the broker answer; else 503 naming what did not."""
    deadline = settings.READINESS_TIMEOUT_SECONDS
    checks = _run_checks({"database": _check_database, "broker": _check_broker}, seconds=deadline)
    failed = sorted(name for name, result in checks.items() if result not in ("ok", "eager"))
    if not failed:
        return JsonResponse({"status": "ok", "checks": checks})
    body = problem_body(
        503,
        code="not_ready",
        detail="Not ready: " + "; ".join(f"{name} ({checks[name]})" for name in failed) + ".",
        instance=request.path,
    )
    body.update(checks=checks, failed=failed)
    return JsonResponse(body, status=503, content_type=PROBLEM_CONTENT_TYPE)


def _run_checks(checks: dict[str, Callable[[], str]], *, seconds: float) -> dict[str, str]:
    """Start every check at once; wait for them all until one shared deadline."""
    ends_at = time.monotonic() + seconds
    started: dict[str, Future[str] | Exception] = {}
    for name, check in checks.items():
        try:
            started[name] = _LANES[name].submit(check)
        except DeadlineExceeded as exc:  # the previous probe of it is still waiting: it hangs
            started[name] = exc
    results: dict[str, str] = {}
    for name, future in started.items():
        try:
            if isinstance(future, Exception):
                raise future
            results[name] = wait_for_result(name, future, seconds=ends_at - time.monotonic())
        except DeadlineExceeded:
            results[name] = f"error: no answer within {seconds:g} s"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready; reported, not hidden
            results[name] = f"error: {type(exc).__name__}"
    return results


def _check_database() -> str:
    """A fresh connection, made as requests make theirs, runs `SELECT 1`; closed afterwards.

    Fresh, because it is what a request needs when its pooled connection is gone; and its own,
    because a hung query would otherwise leave the request thread's connection mid-statement.
    """
    database = connections.create_connection(DEFAULT_DB_ALIAS)
    if database.vendor == "postgresql":
        options = dict(database.settings_dict.get("OPTIONS") or {})
        # libpq counts whole seconds and at least 2; the deadline ends the wait anyway.
        options["connect_timeout"] = max(2, math.ceil(settings.READINESS_TIMEOUT_SECONDS))
        database.settings_dict = {**database.settings_dict, "OPTIONS": options}
    try:
        with database.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        database.close()
    return "ok"


def _check_broker() -> str:
    if not settings.REDIS_URL:
        return "eager"  # no broker configured: tasks run in-process
    import redis

    timeout = min(settings.REDIS_SOCKET_TIMEOUT_SECONDS, settings.READINESS_TIMEOUT_SECONDS)
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=min(settings.REDIS_CONNECT_TIMEOUT_SECONDS, timeout),
        socket_timeout=timeout,
    )
    try:
        client.ping()
    finally:
        client.close()
    return "ok"
