"""Fixtures for delivery tests: fast retry schedules, an allow-listed local receiver, a patient."""

from __future__ import annotations

import pytest

from tests.delivery.support import MRN, Receiver
from tests.factories import IdentifierFactory, PatientFactory


@pytest.fixture
def eager():
    """Run tasks in-process even when REDIS_URL is set (the worker tests start real workers)."""
    from clinic_service.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def webhook_settings(settings, eager):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.0/8"]
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_RETRY_SCHEDULE = [0, 0, 0]
    settings.WEBHOOK_RETRY_JITTER = 0
    settings.OUTBOX_REDISPATCH_AFTER_SECONDS = 0
    return settings


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def patient(clinic):
    patient = PatientFactory(clinic=clinic, family_name="Zebedee-Secret")
    IdentifierFactory(patient=patient, **MRN)
    return patient
