"""Liveness and readiness probes."""

from __future__ import annotations

import time

import pytest
from django.db import connections
from django.test import Client, override_settings

from tests.delivery.support import BlackHole, wait_for

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
# Time a loaded CI machine may add to a probe's own deadline (thread start-up, the request itself).
MARGIN_SECONDS = 1.0


@pytest.fixture
def black_hole():
    hole = BlackHole()
    yield hole
    hole.close()


def test_healthz_is_ok_without_touching_anything():
    assert Client().get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_database_and_broker():
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    checks = response.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["broker"] in ("ok", "eager")


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_readyz_names_a_stopped_broker():
    # Port 1 has no listener: the same answer a stopped Redis gives.
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["broker"]
    assert body["checks"]["broker"].startswith("error:")
    assert body["checks"]["database"] == "ok"


def test_readyz_names_a_failed_database(monkeypatch):
    import intake.health as health

    monkeypatch.setattr(health, "_check_database", lambda: "error: OperationalError")
    body = Client().get("/readyz").json()
    assert "database" in body["failed"]


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_readyz_503_is_a_problem_document_that_keeps_checks_and_failed():
    # when
    response = Client().get("/readyz")
    # then
    assert response.status_code == 503
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == "/problems/not-ready"
    assert body["title"] == "Service unavailable"
    assert body["status"] == 503
    assert "broker" in body["detail"]
    assert body["instance"] == "/readyz"
    assert body["failed"] == ["broker"]
    assert set(body["checks"]) == {"database", "broker"}


def test_readyz_names_a_hung_broker_within_its_deadline(settings, black_hole):
    # given: a Redis that accepts and never answers, socket timeouts longer than the deadline
    settings.REDIS_URL = black_hole.url("redis", "/0")
    settings.REDIS_SOCKET_TIMEOUT_SECONDS = 30
    settings.REDIS_CONNECT_TIMEOUT_SECONDS = 30
    settings.READINESS_TIMEOUT_SECONDS = 0.5
    # when
    started = time.monotonic()
    response = Client().get("/readyz")
    elapsed = time.monotonic() - started
    # then
    assert elapsed < 0.5 + MARGIN_SECONDS, f"/readyz took {elapsed:.2f} s"
    assert response.status_code == 503
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["failed"] == ["broker"]
    assert body["checks"]["broker"] == "error: no answer within 0.5 s"
    assert body["checks"]["database"] == "ok"


def test_readyz_names_a_hung_database_within_its_deadline(settings, monkeypatch, black_hole):
    # given: the database at a PostgreSQL address that accepts and never answers (whatever the
    # suite runs on: the probe makes a fresh connection from these settings)
    import intake.health as health

    hung = {
        **connections.settings["default"],
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "clinic",
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": "127.0.0.1",
        "PORT": black_hole.port,
        "OPTIONS": {},
    }
    monkeypatch.setitem(connections.settings, "default", hung)
    settings.READINESS_TIMEOUT_SECONDS = 1.0
    try:
        for _ in range(2):  # the second probe finds the first still waiting: answered at once, still 503
            # when
            started = time.monotonic()
            response = Client().get("/readyz")
            elapsed = time.monotonic() - started
            # then
            assert elapsed < 1.0 + MARGIN_SECONDS, f"/readyz took {elapsed:.2f} s"
            assert response.status_code == 503
            assert response["Content-Type"] == PROBLEM
            body = response.json()
            assert body["failed"] == ["database"]
            assert body["checks"]["database"].startswith("error:")
    finally:
        # The probe's own thread gives up at libpq's connect_timeout (2 s): let it, before the
        # next test probes the real database.
        wait_for(lambda: not health._LANES["database"].busy, timeout=10, message="database probe still hung")
