"""A webhook receiver that is down, with 10,000 deliveries waiting for it (`make bench`, or alone:
`pytest benchmarks/test_bench_down_receiver.py -s -p no:randomly`): intake throughput and the
Celery worker's CPU while intakes keep arriving, against the same phase with no subscription.

The worker runs with the settings' defaults (retry schedule, 15 s sweep, 30 s re-dispatch), as
in production. Intakes are submitted in this process, one after another, for BENCH_DOWN_SECONDS
(default 20) per phase: on a shared machine the worker's CPU is what takes throughput away.
Skipped (not failed) without DATABASE_URL=postgres://… and REDIS_URL. Numbers are printed.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from intake.auth import Actor
from intake.models import (
    Clinic,
    DeliveryStatus,
    OutboxEvent,
    Patient,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from intake.services.intakes import IntakeAnswers, PatientRef, intake_submit
from intake.services.webhook_signature import new_secret
from tests.builders import low_risk_responses
from tests.delivery.support import Worker, database_url, private_redis

pytestmark = [
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql") or not settings.REDIS_URL,
        reason="needs DATABASE_URL=postgres://… and REDIS_URL",
    ),
    pytest.mark.django_db(transaction=True),
]

BACKLOG = int(os.environ.get("BENCH_DOWN_BACKLOG", "10000"))
SECONDS = float(os.environ.get("BENCH_DOWN_SECONDS", "20"))


@pytest.fixture
def broker(settings):
    with private_redis(settings) as server:
        yield server


def _refusing_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def _seed_backlog(clinic: Clinic, subscription: WebhookSubscription, count: int) -> None:
    """`count` intake.scored deliveries pending for an hour (the receiver went down long ago)."""
    then = timezone.now() - timedelta(hours=1)
    step = 5000
    for start in range(0, count, step):
        events = OutboxEvent.objects.bulk_create(
            OutboxEvent(
                clinic=clinic,
                event_type="intake.scored",
                subject_type="intake",
                subject_id=f"backlog-{start + n}",
                payload={"intake_id": f"backlog-{start + n}", "revision": 1},
                occurred_at=then,
                dispatched_at=then,
            )
            for n in range(min(step, count - start))
        )
        WebhookDelivery.objects.bulk_create(
            WebhookDelivery(event=event, subscription=subscription, next_attempt_at=then, enqueued_at=then)
            for event in events
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _phase(worker: Worker, actor: Actor, patient: Patient, answers: IntakeAnswers) -> tuple[float, float]:
    """(intakes per second, worker CPU in % of one core) over SECONDS of back-to-back submissions."""
    cpu_before, started, submitted = worker.cpu_seconds(), time.monotonic(), 0
    while time.monotonic() - started < SECONDS:
        intake_submit(actor=actor, patient=PatientRef(id=patient.pk), answers=answers, source="api")
        submitted += 1
    elapsed = time.monotonic() - started
    return submitted / elapsed, (worker.cpu_seconds() - cpu_before) / elapsed * 100


def test_down_receiver_with_a_backlog(broker, settings, tmp_path, capsys):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.0/8"]
    settings.WEBHOOK_ALLOW_HTTP = True
    env = {"WEBHOOK_ALLOWED_HOSTS": "127.0.0.0/8", "WEBHOOK_ALLOW_HTTP": "true", "LOG_LEVEL": "WARNING"}
    worker = Worker(
        broker_url=broker.url, db_url=database_url(connection.settings_dict), tmp_path=tmp_path, env=env
    )
    clinic = Clinic.objects.create(slug="bench-down", name="Bench")
    patient = Patient.objects.create(clinic=clinic, family_name="D", given_name="B", birth_date="1970-01-01")
    actor = Actor(clinic=clinic, scopes=frozenset(), client_id=1)
    answers = IntakeAnswers(
        form="lbp-initial",
        completed_at=datetime(2026, 11, 1, 9, tzinfo=UTC),
        responses=low_risk_responses(),
        pain_duration_weeks=20,
        medications=[],
    )
    worker.start()
    try:
        time.sleep(5)  # the worker's start-up (not measured)
        reference = _phase(worker, actor, patient, answers)  # no subscription: nothing to deliver
        subscription = WebhookSubscription.objects.create(
            clinic=clinic, url=_refusing_url(), secret=new_secret(), event_types=["intake.scored"]
        )
        _seed_backlog(clinic, subscription, BACKLOG)
        down = _phase(worker, actor, patient, answers)
        pending = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).count()
        attempts = WebhookAttempt.objects.count()
    finally:
        worker.stop()
    with capsys.disabled():
        print(
            f"\ndown receiver, {BACKLOG:,} waiting, {SECONDS:.0f} s per phase: "
            f"no subscription {reference[0]:.1f} intakes/s, worker {reference[1]:.1f} % of a core; "
            f"receiver down {down[0]:.1f} intakes/s, worker {down[1]:.1f} % of a core "
            f"({attempts} attempts made, {pending:,} pending at the end)"
        )
