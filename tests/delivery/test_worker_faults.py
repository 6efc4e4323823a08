"""Fault injection with real processes (RELIABILITY_PLAN faults 1, 2 and 5): PostgreSQL, a private
redis-server this test may stop, `celery worker -B` subprocesses on the test database, and a
webhook receiver on 127.0.0.1 (allow-listed).

Why a private redis-server rather than pointing the broker at a dead port: stopping and starting
a real server exercises what production sees (the worker's and beat's connections drop and must
reconnect; messages queued before the crash are gone), and the shared Redis is never touched.
"""

from __future__ import annotations

import random
import time

import pytest
from django.db import connection

from intake.models import DeliveryStatus, OutboxEvent, WebhookDelivery
from intake.services.webhook_signature import verify_webhook
from tests.delivery.support import (
    Receiver,
    Worker,
    database_url,
    intake_body,
    private_redis,
    subscribe,
    wait_for,
)

# RELIABILITY_PLAN, fault injection 1 and 2.
SUBMITTED_WHILE_DOWN = 200
SUBMITTED_FOR_KILLS = 1000

# Each test waits up to ~3 minutes for a real worker under fault injection (slower under load).
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(480),
]


@pytest.fixture
def broker(settings):
    with private_redis(settings) as server:
        yield server


@pytest.fixture
def fast_settings(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.0/8"]
    settings.WEBHOOK_ALLOW_HTTP = True
    return settings


@pytest.fixture
def worker(transactional_db, broker, tmp_path):
    process = Worker(broker_url=broker.url, db_url=database_url(connection.settings_dict), tmp_path=tmp_path)
    process.start()
    yield process
    process.stop()


@pytest.fixture
def stopped_worker(transactional_db, broker, tmp_path):
    """A worker the test starts itself (after building a backlog)."""
    process = Worker(broker_url=broker.url, db_url=database_url(connection.settings_dict), tmp_path=tmp_path)
    yield process
    process.stop()


def _post_intakes(api, count: int) -> None:
    for _ in range(count):
        response = api.post("/api/v1/intakes/", intake_body(), format="json")
        assert response.status_code == 201, response.content


def test_redis_down_at_submit_loses_no_event(fast_settings, api, patient, broker, worker, caplog):
    receiver = Receiver()
    try:
        secret = subscribe(api, receiver.url, event_types=["intake.scored"])["secret"]
        broker.stop()
        _post_intakes(api, SUBMITTED_WHILE_DOWN)  # every one 201 although the broker is down
        assert caplog.text.count("the outbox sweeper will re-send it") >= SUBMITTED_WHILE_DOWN  # really down
        # Stored with their fan-out; only the messages after commit could not be published.
        assert (
            WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, attempt_count=0).count()
            == SUBMITTED_WHILE_DOWN
        )
        broker.start()
        expected = {str(e) for e in OutboxEvent.objects.values_list("event_id", flat=True)}
        wait_for(
            lambda: set(receiver.ids_delivered()) >= expected,
            timeout=90,
            message=f"{len(expected - set(receiver.ids_delivered()))} not delivered; {worker.output()}",
        )
        assert all(verify_webhook(secret, r["headers"], r["body"]) for r in receiver.requests)
        delivered = receiver.ids_delivered()
        print(
            f"\nredis down at submit: submitted {SUBMITTED_WHILE_DOWN}, delivered {len(delivered)}, lost 0, "
            f"duplicates {sum(delivered.values()) - len(delivered)}"
        )
    finally:
        receiver.close()


def test_worker_killed_mid_delivery_loses_no_event(fast_settings, api, patient, stopped_worker):
    """Three SIGKILLs while a backlog is being sent. The intakes are posted before the worker
    starts: a worker that keeps up with the posting (a loaded machine posts slowly) left nothing
    to deliver when the kills began, and the wait for more deliveries ran out after 60 s. After
    each restart the sweeper wakes the subscription (its run's message died unacknowledged with
    the worker, restored by Redis only after the visibility timeout)."""
    worker = stopped_worker
    receiver = Receiver(delay=0.02)
    try:
        subscribe(api, receiver.url, event_types=["intake.scored"])
        count = SUBMITTED_FOR_KILLS
        _post_intakes(api, count)
        expected = {str(e) for e in OutboxEvent.objects.values_list("event_id", flat=True)}
        assert len(expected) == count
        worker.start()
        rng = random.Random(5)
        for round_number in range(3):
            restarted = time.monotonic()
            target = len(receiver.ids_delivered()) + rng.randint(10, 40)
            wait_for(lambda t=target: len(receiver.ids_delivered()) >= t, timeout=60, message=worker.output())
            delivered = len(receiver.ids_delivered())
            assert delivered < count, "nothing left to deliver: the kill would not be mid-delivery"
            worker.kill()  # SIGKILL, mid-delivery: no acknowledgement, no cleanup
            worker.start()
            print(
                f"killed the worker (round {round_number + 1}) at {delivered} delivered, "
                f"{time.monotonic() - restarted:.1f} s after it (re)started"
            )
        started = time.monotonic()
        wait_for(
            lambda: set(receiver.ids_delivered()) >= expected,
            timeout=90,
            message=f"{len(expected - set(receiver.ids_delivered()))} not delivered; {worker.output()}",
        )
        print(f"recovered {len(expected)} events {time.monotonic() - started:.1f} s after the last restart")
        wait_for(
            lambda: not WebhookDelivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists(),
            timeout=30,
            message="deliveries not all marked delivered",
        )
        delivered = receiver.ids_delivered()
        duplicates = sum(delivered.values()) - len(delivered)
        print(
            f"\nworker killed ×3: submitted {count}, unique delivered {len(delivered)}, lost 0, "
            f"raw duplicates {duplicates} (a request in flight when the worker died is sent again)"
        )
        assert set(delivered) == expected
    finally:
        receiver.close()


def test_receiver_failures_retry_then_deliver_or_dead_letter(fast_settings, api, patient, worker):
    flaky, broken = Receiver(plan=[500, 500]), Receiver(default_status=500)
    try:
        subscribe(api, flaky.url, event_types=["intake.scored"])
        subscribe(api, broken.url, event_types=["intake.scored"])
        _post_intakes(api, 1)
        deliveries = WebhookDelivery.objects.select_related("subscription")

        def settled():
            return (
                all(d.status != DeliveryStatus.PENDING for d in deliveries.all()) and deliveries.count() == 2
            )

        wait_for(settled, timeout=60, message=worker.output())
        ok = deliveries.get(subscription__url=flaky.url)
        dead = deliveries.get(subscription__url=broken.url)
        assert ok.status == DeliveryStatus.DELIVERED
        assert [a.status_code for a in ok.attempts.all()] == [500, 500, 200]
        assert dead.status == DeliveryStatus.DEAD
        assert [a.status_code for a in dead.attempts.all()] == [500] * 6  # 1 + 5 retries (WORKER_ENV)
        assert len(broken.requests) == 6
    finally:
        flaky.close()
        broken.close()
