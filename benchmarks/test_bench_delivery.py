"""Delivery benchmarks on PostgreSQL + Redis with real worker processes (`make bench`):

* re-stratification backfill rate over 100,000 stored intakes (target ≥ 2,000 intakes/s);
* intake submitted → webhook received latency (p50/p99) at a steady modest load.

Skipped (not failed) without DATABASE_URL=postgres://… and REDIS_URL. Numbers are printed.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from intake.auth import Actor
from intake.models import (
    Clinic,
    Intake,
    IntakeRevision,
    Patient,
    RestratificationJob,
    StratificationRecord,
    WebhookSubscription,
)
from intake.services.intakes import IntakeAnswers, PatientRef, intake_submit
from intake.services.webhook_signature import new_secret
from tests.builders import low_risk_responses
from tests.delivery.support import Receiver, Worker, database_url, private_redis, wait_for

pytestmark = [
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql") or not settings.REDIS_URL,
        reason="needs DATABASE_URL=postgres://… and REDIS_URL",
    ),
    pytest.mark.django_db(transaction=True),
]

INTAKES = int(os.environ.get("BENCH_BACKFILL_INTAKES", "100000"))


@pytest.fixture
def broker(settings):
    with private_redis(settings) as server:
        yield server


@pytest.fixture
def worker(transactional_db, broker, tmp_path):
    process = Worker(
        broker_url=broker.url,
        db_url=database_url(connection.settings_dict),
        tmp_path=tmp_path,
        concurrency=os.cpu_count() or 2,
    )
    process.start()
    yield process
    process.stop()


def _seed(count: int) -> Clinic:
    """`count` lbp-initial intakes with one revision each and no stratification record."""
    clinic = Clinic.objects.create(slug=f"bench-{uuid.uuid4().hex[:6]}", name="Bench")
    responses = low_risk_responses()
    moment = datetime(2026, 11, 1, 9, tzinfo=UTC)
    step = 5000
    for start in range(0, count, step):
        size = min(step, count - start)
        patients = Patient.objects.bulk_create(
            Patient(clinic=clinic, family_name=f"P{start + i}", given_name="B", birth_date="1970-01-01")
            for i in range(size)
        )
        intakes = Intake.objects.bulk_create(
            Intake(
                clinic=clinic,
                patient=patient,
                form_code="lbp-initial",
                form_version="2026.1",
                completed_at=moment,
                created_by="bench",
            )
            for patient in patients
        )
        IntakeRevision.objects.bulk_create(
            IntakeRevision(
                intake=intake,
                number=1,
                completed_at=moment,
                responses=responses,
                pain_duration_weeks=20,
                work_status="working_full_time",
                medications=[],
                source="api",
                created_by="bench",
            )
            for intake in intakes
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE intake_intake i SET current_revision_id = r.id FROM intake_intakerevision r "
            "WHERE r.intake_id = i.id AND i.clinic_id = %s",
            [clinic.pk],
        )
    return clinic


def test_backfill_rate(worker, capsys, benchmark):
    started = time.monotonic()
    clinic = _seed(INTAKES)
    seeded = time.monotonic() - started
    started = time.monotonic()
    # One round: a second would find nothing left to do (the backfill is idempotent).
    benchmark.pedantic(
        call_command,
        args=("restratify", "--clinic", clinic.slug, "--batch-size", "1000", "--timeout", "900"),
        rounds=1,
        iterations=1,
    )
    elapsed = time.monotonic() - started
    job = RestratificationJob.objects.get()
    assert job.status == "finished" and job.created == INTAKES
    assert StratificationRecord.objects.filter(clinic=clinic).count() == INTAKES
    with capsys.disabled():
        print(
            f"\nbackfill: {INTAKES} intakes seeded in {seeded:.1f} s; re-stratified in {elapsed:.1f} s "
            f"= {INTAKES / elapsed:,.0f} intakes/s (target ≥ 2,000/s)"
        )


def test_submit_to_webhook_latency(worker, settings, capsys, benchmark):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.0/8"]
    settings.WEBHOOK_ALLOW_HTTP = True
    receiver = Receiver()
    arrivals: dict[str, float] = {}
    clinic = Clinic.objects.create(slug="bench-latency", name="Bench")
    WebhookSubscription.objects.create(
        clinic=clinic, url=receiver.url, secret=new_secret(), event_types=["intake.scored"]
    )
    patient = Patient.objects.create(clinic=clinic, family_name="L", given_name="B", birth_date="1970-01-01")
    actor = Actor(clinic=clinic, scopes=frozenset(), client_id=1)
    answers = IntakeAnswers(
        form="lbp-initial",
        completed_at=datetime(2026, 11, 1, 9, tzinfo=UTC),
        responses=low_risk_responses(),
        pain_duration_weeks=20,
        medications=[],
    )
    submitted: dict[str, float] = {}
    rate, seconds = 10, 20  # modest steady load: 10 intakes/s for 20 s

    def steady_load() -> None:
        start = time.monotonic()
        for n in range(rate * seconds):
            time.sleep(max(0.0, start + n / rate - time.monotonic()))  # pacing, not waiting
            sent = time.monotonic()
            outcome = intake_submit(
                actor=actor, patient=PatientRef(id=patient.pk), answers=answers, source="api"
            )
            submitted[str(outcome.intake.pk)] = sent

    try:
        benchmark.pedantic(steady_load, rounds=1, iterations=1)
        wait_for(lambda: len(receiver.requests) >= len(submitted), timeout=60, message=worker.output())
        for request, body in zip(receiver.requests, receiver.bodies(), strict=True):
            arrivals.setdefault(body["data"]["intake_id"], request["at"])
        latencies = sorted((arrivals[i] - submitted[i]) * 1000 for i in submitted)
        p50 = statistics.median(latencies)
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        from intake.models import WebhookAttempt

        # Fan-out happens in the intake's transaction now: the queue wait is delivery → attempt.
        send_ms = sorted(
            (a.attempted_at - a.delivery.created_at).total_seconds() * 1000
            for a in WebhookAttempt.objects.select_related("delivery")
        )
        with capsys.disabled():
            print(f"\n  delivery created → attempted p50 {statistics.median(send_ms):.0f} ms")
            print(
                f"\nsubmit → webhook received: {len(latencies)} intakes at {rate}/s: "
                f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {latencies[-1]:.0f} ms"
            )
    finally:
        receiver.close()
