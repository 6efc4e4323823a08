"""A receiver that is down costs the same whatever its backlog (a paused subscription), and a
worker that died mid-run is resumed by the sweeper with one wake-up, not a message per delivery.

The cost is counted two ways: SQL statements (any database) and, on PostgreSQL, table rows read
and written (`pg_stat_xact_user_tables`, this transaction's own counters). Sequential scans are
disabled while counting, so the counts show the access path the indexes give: on a production
table the planner takes it, on a table of test size it might read the whole (small) table.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from intake import tasks
from intake.models import (
    DeliveryStatus,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from intake.services.delivery import WAKE_KEY, outbox_sweep, subscription_deliver_due
from intake.services.webhook_signature import new_secret
from tests.delivery.support import Receiver, submit

pytestmark = pytest.mark.django_db

SMALL, LARGE = 10, 1000
_TABLES = (
    "intake_webhookdelivery",
    "intake_webhooksubscription",
    "intake_outboxevent",
    "intake_webhookattempt",
)


def _refusing_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (connection refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def _subscription_with_backlog(clinic: Any, url: str, pending: int) -> WebhookSubscription:
    """A subscription with `pending` flag.updated deliveries waiting (an hour old), each after its
    flag's flag.created, already delivered: the ordering check has an earlier event to look at."""
    subscription = WebhookSubscription.objects.create(
        clinic=clinic, url=url, secret=new_secret(), event_types=["flag.created", "flag.updated"]
    )
    then = timezone.now() - timedelta(hours=1)
    events = []
    for number in range(pending):
        subject = f"{subscription.pk}-{number}"
        for event_type in ("flag.created", "flag.updated"):
            events.append(
                OutboxEvent(
                    clinic=clinic,
                    event_type=event_type,
                    subject_type="flag",
                    subject_id=subject,
                    payload={"flag_id": subject, "version": 1 if event_type == "flag.created" else 2},
                    occurred_at=then,
                    dispatched_at=then,
                )
            )
    events = OutboxEvent.objects.bulk_create(events)
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            event=event,
            subscription=subscription,
            status=DeliveryStatus.DELIVERED if event.event_type == "flag.created" else DeliveryStatus.PENDING,
            attempt_count=1 if event.event_type == "flag.created" else 0,
            next_attempt_at=then,
            enqueued_at=then,
        )
        for event in events
    )
    return subscription


def _rows_counters() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, seq_tup_read + COALESCE(idx_tup_fetch, 0) + n_tup_ins + n_tup_upd + n_tup_del "
            "FROM pg_stat_xact_user_tables WHERE relname = ANY(%s)",
            [list(_TABLES)],
        )
        return {name: int(total) for name, total in cursor.fetchall()}


def _cost(action: Callable[[], Any]) -> tuple[int, dict[str, int]]:
    """(SQL statements, rows read or written per table) of running `action`."""
    postgres = connection.vendor == "postgresql"
    before = _rows_counters() if postgres else {}
    with CaptureQueriesContext(connection) as queries:
        action()
    after = _rows_counters() if postgres else {}
    rows = {table: after.get(table, 0) - before.get(table, 0) for table in _TABLES} if postgres else {}
    return len(queries), {table: count for table, count in rows.items() if count}


@pytest.fixture
def counted(webhook_settings):
    webhook_settings.WEBHOOK_RETRY_SCHEDULE = [60, 60, 60]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE intake_webhookdelivery")  # inside the test's transaction
            cursor.execute("SET LOCAL enable_seqscan = off")
    return webhook_settings


def test_a_run_that_finds_the_receiver_down_costs_the_same_with_10_or_1000_waiting(
    counted, clinic, monkeypatch
):
    small = _subscription_with_backlog(clinic, _refusing_url(), SMALL)
    large = _subscription_with_backlog(clinic, _refusing_url(), LARGE)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE intake_webhookdelivery")
    woken: list[Any] = []
    monkeypatch.setattr(tasks.deliver_subscription, "apply_async", lambda *a, **k: woken.append(k["args"]))

    def run(subscription: WebhookSubscription) -> Callable[[], Any]:
        return lambda: subscription_deliver_due(subscription_id=subscription.pk)

    costs: dict[str, dict[int, tuple[int, dict[str, int]]]] = {}
    # 1. the run that finds the receiver down (one try, then the subscription pauses);
    costs["finds it down"] = {SMALL: _cost(run(small)), LARGE: _cost(run(large))}
    assert costs["finds it down"][SMALL] == costs["finds it down"][LARGE], costs
    for subscription in (small, large):
        subscription.refresh_from_db()
        head = WebhookDelivery.objects.get(subscription=subscription, attempt_count=1, status="pending")
        assert head.last_error.startswith("connection:")
        assert subscription.paused_until == head.next_attempt_at > timezone.now()
    # 2. a run while paused (a late wake-up) reads the subscription and nothing else;
    costs["paused"] = {SMALL: _cost(run(small)), LARGE: _cost(run(large))}
    # 3. the sweeper skips paused subscriptions without reading their backlogs;
    sweep_paused = _cost(outbox_sweep)
    assert woken == []
    # 4. after the pause (the failed delivery's next try is due) the next run tries it again.
    past = timezone.now() - timedelta(seconds=1)
    for subscription in (small, large):
        WebhookSubscription.objects.filter(pk=subscription.pk).update(paused_until=past)
        WebhookDelivery.objects.filter(subscription=subscription, attempt_count=1, status="pending").update(
            next_attempt_at=past
        )
    sweep_due = _cost(outbox_sweep)
    assert sorted(woken) == sorted([(str(small.pk),), (str(large.pk),)])  # one wake-up each
    costs["after the pause"] = {SMALL: _cost(run(small)), LARGE: _cost(run(large))}

    print(f"\ncost per run (statements, rows by table), backlog {SMALL} vs {LARGE}: {costs}")
    for phase, by_size in costs.items():
        assert by_size[SMALL] == by_size[LARGE], f"{phase}: {by_size}"
    queries, rows = costs["finds it down"][SMALL]
    assert queries <= 15, costs
    if connection.vendor == "postgresql":
        # One delivery claimed, read, tried, recorded; its attempt; the subscription paused; the
        # ordering check's one earlier event and its delivery: a handful, never the backlog.
        assert sum(rows.values()) <= 20, costs
        assert costs["paused"][SMALL][1] == {"intake_webhooksubscription": 1}, costs
        assert sweep_paused[1].get("intake_webhookdelivery", 0) == 0, sweep_paused
        assert sweep_due[1].get("intake_webhookdelivery", 0) <= 2, sweep_due  # one probe each
    for subscription, backlog in ((small, SMALL), (large, LARGE)):
        attempts = WebhookAttempt.objects.filter(delivery__subscription=subscription)
        assert [a.number for a in attempts] == [1, 2]  # the same delivery, twice, by its schedule
        pending = WebhookDelivery.objects.filter(subscription=subscription, status=DeliveryStatus.PENDING)
        assert pending.count() == backlog and pending.filter(attempt_count=0).count() == backlog - 1


def test_commits_to_a_paused_subscription_publish_nothing_until_it_resumes(
    webhook_settings, api, patient, monkeypatch, django_capture_on_commit_callbacks
):
    webhook_settings.WEBHOOK_RETRY_SCHEDULE = [60]
    subscription = api.post(
        "/api/v1/webhooks/", {"url": _refusing_url(), "event_types": ["intake.scored"]}, format="json"
    ).json()
    submit(api)  # the eager run tries it: refused, paused for 60 s
    paused_until = WebhookSubscription.objects.get(pk=subscription["id"]).paused_until
    assert paused_until is not None and paused_until > timezone.now()
    assert api.get(f"/api/v1/webhooks/{subscription['id']}/").json()["paused_until"] is not None
    published: list[Any] = []
    monkeypatch.setattr(tasks.deliver_subscription, "apply_async", lambda *a, **k: published.append(k))
    for _ in range(3):
        submit(api)
    assert published == []  # the wake-up mark is held for the pause
    assert WebhookAttempt.objects.count() == 1

    # Fixing the URL lifts the pause and wakes the sender at once.
    receiver = Receiver()
    try:
        monkeypatch.undo()
        with django_capture_on_commit_callbacks(execute=True):
            response = api.patch(
                f"/api/v1/webhooks/{subscription['id']}/", {"url": receiver.url}, format="json"
            )
        assert response.status_code == 200 and response.json()["paused_until"] is None
        # The failed delivery keeps its own next try; the three committed meanwhile went out.
        assert len(receiver.ids_delivered()) == 3
        assert WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).count() == 1
    finally:
        receiver.close()


def test_a_2xx_to_a_redelivery_lifts_the_pause(
    webhook_settings, api, patient, django_capture_on_commit_callbacks
):
    webhook_settings.WEBHOOK_RETRY_SCHEDULE = [600]
    receiver = Receiver(plan=[503])
    try:
        subscription = api.post(
            "/api/v1/webhooks/", {"url": receiver.url, "event_types": ["intake.scored"]}, format="json"
        ).json()
        submit(api)  # 503: paused for 600 s
        submit(api)  # waits
        assert WebhookSubscription.objects.get(pk=subscription["id"]).paused_until is not None
        failed = WebhookDelivery.objects.get(attempt_count=1)
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(f"/api/v1/webhooks/deliveries/{failed.pk}/redeliver/")
        assert response.status_code == 202
        assert WebhookSubscription.objects.get(pk=subscription["id"]).paused_until is None
        assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 2
    finally:
        receiver.close()


def test_after_a_worker_died_mid_run_the_sweeper_wakes_the_subscription_once(
    webhook_settings, api, patient, monkeypatch
):
    """A run killed mid-way (SIGKILL: its message stays unacknowledged in Redis for the
    visibility timeout, an hour) leaves: deliveries it sent and recorded, deliveries it had
    claimed (their lease passes), the rest of the backlog, and possibly the wake-up mark of a
    wake-up that died with it, so a commit meanwhile publishes nothing. The sweeper must restart
    the subscription's run: one message, in event order over one connection. It used to publish
    a message per overdue delivery, and again at each sweep while those waited in the queue."""
    receiver = Receiver(keep_alive=True)
    try:
        subscription = api.post(
            "/api/v1/webhooks/", {"url": receiver.url, "event_types": ["intake.scored"]}, format="json"
        ).json()
        published: list[tuple[str, tuple[Any, ...]]] = []
        for task in (tasks.deliver_webhook, tasks.deliver_subscription):
            monkeypatch.setattr(
                task, "apply_async", lambda *a, task=task, **k: published.append((task.name, k["args"]))
            )
        for _ in range(12):
            submit(api)
        deliveries = list(WebhookDelivery.objects.order_by("event_id"))
        # The dead run had delivered 4, claimed 4 more (lease since passed), left 4 untouched;
        # a wake-up published after it took the mark and died too.
        dead_lease = timezone.now() - timedelta(seconds=1)
        WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries[:4]]).update(
            status=DeliveryStatus.DELIVERED, attempt_count=1
        )
        WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries[4:8]]).update(
            next_attempt_at=dead_lease
        )
        cache.set(WAKE_KEY.format(subscription["id"]), 1, timeout=60)
        published.clear()
        submit(api)  # a commit while the stale mark is set: no wake-up
        assert published == []

        first, second = outbox_sweep(), outbox_sweep()  # the second before the first's run
        assert published == [("intake.webhooks.deliver_subscription", (subscription["id"],))] * 2
        assert first.subscriptions == second.subscriptions == 1

        monkeypatch.undo()
        tasks.deliver_subscription.apply(args=(subscription["id"],))
        assert WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).count() == 0
        seqs = [body["seq"] for body in receiver.bodies()]
        assert len(seqs) == 9 and seqs == sorted(seqs)
        assert len({r["peer"] for r in receiver.requests}) == 1  # one connection
        assert outbox_sweep().subscriptions == 0
    finally:
        receiver.close()
