"""RELIABILITY_PLAN F-02 and issue 12 item 2: Redis or PostgreSQL accepting connections and never
answering, with the app served as deployed (gunicorn with the Dockerfile's flags, DEBUG=false).

Before the fix every intake hung until gunicorn killed its worker at 30 s (the publish after
commit waited forever on kombu's PING, the rate limiter's cache calls 5 s each), `/healthz` queued
behind them, and `/readyz` hung on a frozen database until the worker was killed (an HTML 500).
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from intake.models import (
    DeliveryStatus,
    FlagNotification,
    Intake,
    OutboxEvent,
    WebhookDelivery,
    WebhookSubscription,
)
from tests.api.test_database_restart import _children
from tests.builders import initial_intake
from tests.conftest import issue_token
from tests.delivery.support import (
    ALL_EVENTS,
    URGENT_FLAG_ANSWERS,
    BlackHole,
    database_url,
)
from tests.factories import ClinicFactory, IntegrationClientFactory
from tests.live_gunicorn import gunicorn

# As the Dockerfile's CMD: gunicorn.conf.py (2 workers, 30 s timeout, the request limits).
INTAKES = 40
CLIENTS = 4
PROBLEM = "application/problem+json"


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    hole = BlackHole()
    yield hole
    hole.close()


def _service_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "FAIL_ON_SKIP")}
    env.update(
        DEBUG="false",
        SECRET_KEY=uuid.uuid4().hex * 2,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        CONN_MAX_AGE="0",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="clinic_service.settings",
    )
    env.update(values)
    return env


def _request(request: urllib.request.Request, *, timeout: float) -> tuple[int, str, Any, float]:
    """(status, content type, decoded body, seconds); status 0 when the server never answered."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, content_type, raw = response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        status, content_type, raw = error.code, error.headers["Content-Type"], error.read()
    except OSError as error:
        return 0, "", repr(error), time.monotonic() - started
    seconds = time.monotonic() - started
    try:
        return status, content_type, json.loads(raw), seconds
    except ValueError:
        return status, content_type, raw[:200], seconds


def _get(url: str, *, timeout: float = 40) -> tuple[int, str, Any, float]:
    return _request(urllib.request.Request(url), timeout=timeout)


def _post_intake(base: str, token: str, n: int) -> tuple[int, str, Any, float]:
    patient = {
        "identifier": {"system": "urn:hung", "value": f"H-{n}"},
        "family_name": "Hung",
        "given_name": f"P{n}",
        "birth_date": "1970-01-01",
    }
    body = json.dumps(initial_intake(patient, responses=URGENT_FLAG_ANSWERS)).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/intakes/",
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": str(uuid.uuid4()),
        },
    )
    return _request(request, timeout=40)


def _figures(seconds: list[float]) -> str:
    return f"p50 {statistics.median(seconds) * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_hung_redis_stalls_no_intake_and_no_probe(black_hole, tmp_path):
    # given: a clinic whose intakes publish after commit (a webhook subscription, an urgent flag's
    # e-mail), served with REDIS_URL at a listener that accepts and never answers
    clinic = ClinicFactory()
    token = issue_token(
        IntegrationClientFactory(clinic=clinic, scopes=sorted(settings.API_SCOPES)), settings.API_SCOPES
    )
    WebhookSubscription.objects.create(
        clinic=clinic, url="https://receiver.example.org/hook", secret="whsec_test", event_types=ALL_EVENTS
    )
    env = _service_env(
        DATABASE_URL=database_url(connection.settings_dict), REDIS_URL=black_hole.url("redis", "/0")
    )
    log = tmp_path / "gunicorn.log"
    with gunicorn(env, workers=None, log=log) as (base, web):
        workers = _children(web.pid)
        posts: list[tuple[int, str, Any, float]] = []
        probes: dict[str, list[tuple[int, str, Any, float]]] = {"healthz": [], "readyz": []}
        numbers = iter(range(INTAKES))
        lock = threading.Lock()
        done = threading.Event()

        def submit() -> None:
            while not done.is_set():
                with lock:
                    n = next(numbers, None)
                if n is None:
                    return
                result = _post_intake(base, token, n)
                with lock:
                    posts.append(result)
                if result[0] != 201:
                    done.set()  # today's code: each one waits 30 s for gunicorn's kill; one is enough

        def probe() -> None:
            while not done.is_set():
                probes["healthz"].append(_get(f"{base}/healthz"))
                if len(probes["healthz"]) % 10 == 1:
                    probes["readyz"].append(_get(f"{base}/readyz"))
                time.sleep(0.1)

        # when: intakes from four clients at once, probes meanwhile
        clients = [threading.Thread(target=submit) for _ in range(CLIENTS)]
        prober = threading.Thread(target=probe)
        for thread in [*clients, prober]:
            thread.start()
        for thread in clients:
            thread.join(timeout=300)
        done.set()
        prober.join(timeout=60)
        restarted = _children(web.pid) != workers

    # then: every intake answered 201 within a few seconds, none left waiting on Redis
    statuses = [status for status, *_ in posts]
    assert statuses == [201] * INTAKES, f"{statuses}\n{log.read_text(errors='replace')[-3000:]}"
    post_seconds = [seconds for *_, seconds in posts]
    assert max(post_seconds) < 5, _figures(post_seconds)
    # ... liveness answered throughout
    healthz = probes["healthz"]
    assert all(status == 200 for status, *_ in healthz), healthz
    assert max(seconds for *_, seconds in healthz) < 3, _figures([s for *_, s in healthz])
    # ... readiness named the broker, as a problem document, within its deadline (plus queueing
    # behind the intakes: both workers may be busy when it arrives)
    readyz = probes["readyz"]
    assert readyz
    for status, content_type, body, seconds in readyz:
        assert (status, content_type) == (503, PROBLEM), body
        assert body["failed"] == ["broker"] and body["checks"]["database"] == "ok", body
        assert seconds < settings.READINESS_TIMEOUT_SECONDS + 2, seconds
    assert not restarted, "gunicorn workers were killed and restarted"
    # ... and every intake's work is stored, left for the outbox sweeper
    assert Intake.objects.count() == INTAKES
    assert OutboxEvent.objects.count() == 2 * INTAKES  # intake.scored and flag.created
    deliveries = WebhookDelivery.objects.all()
    assert deliveries.count() == 2 * INTAKES
    assert all(d.status == DeliveryStatus.PENDING and d.attempt_count == 0 for d in deliveries)
    assert FlagNotification.objects.filter(sent_at=None).count() == INTAKES
    print(
        f"\nhung redis: {INTAKES} intakes from {CLIENTS} clients, all 201 ({_figures(post_seconds)}); "
        f"/healthz {_figures([s for *_, s in healthz])}; /readyz 503 in "
        f"{', '.join(f'{s:.2f}' for *_, s in readyz)} s; every delivery pending for the sweeper"
    )


def test_a_hung_database_makes_readyz_answer_503_within_its_deadline(black_hole, tmp_path):
    # given: DATABASE_URL at a listener that accepts and never answers; a 1 s readiness deadline
    deadline = 1.0
    env = _service_env(
        DATABASE_URL=black_hole.url("postgres", "/clinic").replace("://", "://postgres@"),
        READINESS_TIMEOUT_SECONDS=str(deadline),
    )
    log = tmp_path / "gunicorn.log"
    with gunicorn(env, workers=None, log=log) as (base, _):
        # Both workers load their URLconf and views before anything is timed.
        warm = [threading.Thread(target=_get, args=(f"{base}/healthz",)) for _ in range(6)]
        for thread in warm:
            thread.start()
        for thread in warm:
            thread.join(timeout=30)
        # when
        probes = [_get(f"{base}/readyz") for _ in range(3)]
        healthz = _get(f"{base}/healthz")

    # then
    for status, content_type, body, seconds in probes:
        assert (status, content_type) == (503, PROBLEM), (
            status,
            body,
            log.read_text(errors="replace")[-3000:],
        )
        assert body["status"] == 503 and body["type"] == "/problems/not-ready"
        assert body["failed"] == ["database"]
        assert body["checks"]["database"].startswith("error:") and body["checks"]["broker"] == "eager"
        assert seconds < deadline + 1.5, seconds
    assert healthz[0] == 200 and healthz[3] < 1, healthz
    print(
        f"\nhung database: /readyz 503 in {', '.join(f'{s:.2f}' for *_, s in probes)} s; "
        f"/healthz {healthz[3]:.3f} s"
    )
