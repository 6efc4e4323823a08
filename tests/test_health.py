"""Liveness and readiness probes."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


def test_healthz_is_ok_without_touching_anything():
    assert Client().get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_database_and_broker():
    response = Client().get("/readyz")
    assert response.status_code == 200
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
