"""A Redis that accepts connections and never answers (frozen, or a stalled network path): every
publish after commit and every cache call on the request path is bounded, the request succeeds and
its work waits in the outbox for the sweeper. (The same through gunicorn:
tests/api/test_hung_dependencies.py.)"""

from __future__ import annotations

import signal
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.test import TestCase

from clinic_service.celery import app
from intake.dispatch import DELIVER_SUBSCRIPTION, publish
from intake.models import DeliveryStatus, FlagNotification, OutboxEvent, WebhookDelivery, WebhookSubscription
from tests.delivery.support import ALL_EVENTS, URGENT_FLAG_ANSWERS, BlackHole, intake_body, redis_at

pytestmark = pytest.mark.django_db

# What a loaded CI machine may add to a timeout.
MARGIN_SECONDS = 1.5


@contextmanager
def fails_after(seconds: float) -> Iterator[None]:
    """Raise in this (main) thread after `seconds`, so a call that hangs fails the test instead of
    hanging the suite; a timer armed around it (pytest-timeout's) is re-armed afterwards."""

    def expire(signum: int, frame: Any) -> None:
        raise AssertionError(f"still waiting after {seconds} s")

    previous_handler = signal.signal(signal.SIGALRM, expire)
    previous_delay, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay:
            signal.setitimer(signal.ITIMER_REAL, max(0.01, previous_delay - (time.monotonic() - started)))


@pytest.fixture
def hung_redis(settings) -> Iterator[BlackHole]:
    """Broker and cache at a listener that never answers, as REDIS_URL pointing there would set them."""
    hole = BlackHole()
    try:
        with redis_at(settings, hole.url("redis", "/0")):
            yield hole
    finally:
        hole.close()


def _post_intake(api: Any, *, limit: float) -> tuple[int, float]:
    started = time.monotonic()
    with fails_after(limit), TestCase.captureOnCommitCallbacks(execute=True):
        response = api.post("/api/v1/intakes/", intake_body(**URGENT_FLAG_ANSWERS), format="json")
    return response.status_code, time.monotonic() - started


def test_an_intake_is_answered_and_left_for_the_sweeper_when_redis_never_answers(
    api, clinic, patient, settings, hung_redis, caplog
):
    # given: a subscription and an urgent flag, so the commit publishes a wake-up and an e-mail
    WebhookSubscription.objects.create(
        clinic=clinic, url="https://receiver.example.org/hook", secret="whsec_test", event_types=ALL_EVENTS
    )
    bound = settings.REDIS_SOCKET_TIMEOUT_SECONDS + settings.BROKER_PUBLISH_DEADLINE_SECONDS + MARGIN_SECONDS
    # when
    first_status, first_seconds = _post_intake(api, limit=bound + 5)
    second_status, second_seconds = _post_intake(api, limit=bound + 5)
    # then: answered within one timeout, and the next one without waiting for Redis at all
    assert (first_status, second_status) == (201, 201)
    assert first_seconds < bound, f"first intake took {first_seconds:.2f} s"
    assert second_seconds < first_seconds, (first_seconds, second_seconds)
    # ... with all their work stored and left for the sweeper (nothing reached a worker)
    events = list(OutboxEvent.objects.all())
    assert len(events) == 4  # intake.scored and flag.created, twice
    deliveries = WebhookDelivery.objects.all()
    assert deliveries.count() == 4
    assert all(d.status == DeliveryStatus.PENDING and d.attempt_count == 0 for d in deliveries)
    assert FlagNotification.objects.filter(sent_at=None).count() == 2
    logged = [
        r.getMessage() for r in caplog.records if "the outbox sweeper will re-send it" in r.getMessage()
    ]
    assert len(logged) == 4  # a wake-up and an e-mail per intake, each named by its ids
    assert all("outbox seq" in message for message in logged)
    print(f"\nhung redis, in-process: first intake {first_seconds:.2f} s, second {second_seconds:.2f} s")


@pytest.fixture
def slow_broker_sockets() -> Iterator[None]:
    """Broker socket timeouts far beyond any publish deadline."""
    saved = app.conf.broker_transport_options
    app.conf.broker_transport_options = {**saved, "socket_timeout": 30, "socket_connect_timeout": 30}
    yield
    app.conf.broker_transport_options = saved


def test_a_publish_gives_up_at_its_deadline_whatever_the_socket_timeouts(
    settings, hung_redis, slow_broker_sockets, caplog
):
    # given: socket timeouts far beyond the publish deadline
    settings.BROKER_PUBLISH_DEADLINE_SECONDS = 0.3
    subscription_id = str(uuid.uuid4())
    outcome: dict[str, Any] = {}

    def publish_twice() -> None:
        for attempt in ("first", "second"):
            started = time.monotonic()
            outcome[attempt] = publish(DELIVER_SUBSCRIPTION, subscription_id, log_ids="subscription x")
            outcome[f"{attempt}_seconds"] = time.monotonic() - started

    # when (in a thread, so a publish that hangs fails the test instead of hanging the suite)
    thread = threading.Thread(target=publish_twice, daemon=True)
    thread.start()
    thread.join(timeout=10)
    # then
    assert not thread.is_alive(), "publish still waiting for the broker after 10 s"
    assert outcome["first"] is False and outcome["second"] is False
    assert outcome["first_seconds"] < 0.3 + MARGIN_SECONDS
    assert outcome["second_seconds"] < 0.2  # the broker failed a moment ago: not asked again
    assert caplog.text.count("could not enqueue intake.webhooks.deliver_subscription (subscription x)") == 2
