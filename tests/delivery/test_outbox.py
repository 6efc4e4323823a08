"""The outbox survives a broker that is down at commit: the request succeeds, the sweeper re-sends."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import TestCase
from kombu.exceptions import OperationalError

from intake import tasks
from intake.models import (
    DeliveryStatus,
    FlagNotification,
    OutboxEvent,
    WebhookDelivery,
    WebhookSubscription,
)
from intake.services.delivery import SweepResult, outbox_sweep
from tests.delivery.support import URGENT_FLAG_ANSWERS, Receiver, submit, subscribe

pytestmark = pytest.mark.django_db


def test_broker_down_at_commit_still_returns_201_and_the_sweeper_delivers(
    webhook_settings, api, patient, receiver, monkeypatch, caplog
):
    subscribe(api, receiver.url)

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    with monkeypatch.context() as patched:
        for task in (tasks.deliver_webhook, tasks.deliver_subscription, tasks.send_notification):
            patched.setattr(task, "apply_async", broker_down)
        body = submit(api, **URGENT_FLAG_ANSWERS)
    assert body["id"]
    events = list(OutboxEvent.objects.all())
    # The fan-out is written with the intake; only the publishing after commit failed.
    assert len(events) == 2 and all(e.dispatched_at is not None for e in events)
    deliveries = WebhookDelivery.objects.all()
    assert {str(d.event.event_id) for d in deliveries} == {str(e.event_id) for e in events}
    assert all(d.status == DeliveryStatus.PENDING and d.attempt_count == 0 for d in deliveries)
    assert FlagNotification.objects.filter(sent_at=None).count() == 1
    assert "the outbox sweeper will re-send it" in caplog.text
    assert receiver.requests == []

    with TestCase.captureOnCommitCallbacks(execute=True):
        result = outbox_sweep()
    assert (result.subscriptions, result.notifications) == (1, 1)  # one run sends both events
    assert set(receiver.ids_delivered()) == {str(e.event_id) for e in events}
    assert FlagNotification.objects.filter(sent_at=None).count() == 0


def test_without_subscriptions_or_urgent_flags_nothing_is_published(
    webhook_settings, api, patient, monkeypatch
):
    published = []
    for task in (
        tasks.deliver_webhook,
        tasks.deliver_subscription,
        tasks.send_notification,
        tasks.dispatch_events,
    ):
        monkeypatch.setattr(task, "apply_async", lambda *a, **k: published.append((a, k)))
    submit(api)
    assert OutboxEvent.objects.filter(dispatched_at=None).count() == 0
    assert published == []


def test_one_wake_up_per_subscription_carries_every_intake_committed_meanwhile(
    webhook_settings, api, patient, monkeypatch
):
    receiver = Receiver(keep_alive=True)
    try:
        first, second = subscribe(api, receiver.url), subscribe(api, receiver.url)
        published = []
        for task in (tasks.deliver_webhook, tasks.deliver_subscription):
            monkeypatch.setattr(task, "apply_async", lambda *a, task=task, **k: published.append((task, k)))
        for _ in range(3):  # while the wake-ups wait in the queue, more intakes commit
            submit(api, **URGENT_FLAG_ANSWERS)  # intake.scored + flag.created each
        assert sorted(k["args"][0] for _, k in published) == sorted([first["id"], second["id"]])
        assert {task for task, _ in published} == {tasks.deliver_subscription}

        monkeypatch.undo()
        tasks.deliver_subscription.apply(args=(first["id"],))
        sent = [r for r in receiver.requests if r["headers"]["webhook-id"]]
        assert len(sent) == 6 and len({r["peer"] for r in sent}) == 1  # one run, one connection
        seqs = [json.loads(r["body"])["seq"] for r in sent]
        assert seqs == sorted(seqs)
        delivered = WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED)
        assert {str(d.subscription_id) for d in delivered} == {first["id"]} and delivered.count() == 6
        # The run cleared the mark: the next commit wakes the subscription again.
        published.clear()
        for task in (tasks.deliver_webhook, tasks.deliver_subscription):
            monkeypatch.setattr(task, "apply_async", lambda *a, task=task, **k: published.append((task, k)))
        submit(api)
        assert [k["args"][0] for _, k in published] == [first["id"]]
    finally:
        receiver.close()


def test_a_receiver_that_fails_costs_one_request_per_run_not_one_per_event(
    webhook_settings, api, patient, monkeypatch
):
    webhook_settings.WEBHOOK_RETRY_SCHEDULE = [120, 120]
    receiver = Receiver(default_status=503)
    try:
        subscription = subscribe(api, receiver.url)
        woken = []
        monkeypatch.setattr(tasks.deliver_subscription, "apply_async", lambda *a, **k: woken.append(k))
        monkeypatch.setattr(tasks.deliver_webhook, "apply_async", lambda *a, **k: None)
        for _ in range(3):
            submit(api, **URGENT_FLAG_ANSWERS)
        woken.clear()
        before = dict(WebhookDelivery.objects.values_list("pk", "next_attempt_at"))
        tasks.deliver_subscription.apply(args=(subscription["id"],))
        assert len(receiver.requests) == 1
        failed = WebhookDelivery.objects.get(attempt_count=1)
        assert failed.last_status_code == 503 and failed.status == DeliveryStatus.PENDING
        # The subscription waits for the failed one's next try; the rest is not even claimed
        # (still due as created), and one run is scheduled for then (not a message per delivery).
        paused_until = WebhookSubscription.objects.get(pk=subscription["id"]).paused_until
        assert paused_until == failed.next_attempt_at
        rest = WebhookDelivery.objects.filter(attempt_count=0)
        assert rest.count() == 5 and all(d.next_attempt_at == before[d.pk] for d in rest)
        assert [k["args"] for k in woken] == [(subscription["id"],)]
        assert 110 < woken[0]["countdown"] <= 120
        # Commits and runs while paused send nothing and publish nothing.
        woken.clear()
        submit(api, **URGENT_FLAG_ANSWERS)
        tasks.deliver_subscription.apply(args=(subscription["id"],))
        assert woken == [] and len(receiver.requests) == 1
    finally:
        receiver.close()


def test_an_event_left_undispatched_is_fanned_out_by_the_sweeper(webhook_settings, api, patient, receiver):
    subscribe(api, receiver.url)
    submit(api, **URGENT_FLAG_ANSWERS)
    # As if written before fan-out moved into the writing transaction (or by hand): no deliveries.
    WebhookDelivery.objects.all().delete()
    OutboxEvent.objects.update(dispatched_at=None)
    receiver.requests.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert outbox_sweep().events == 2
    assert OutboxEvent.objects.filter(dispatched_at=None).count() == 0
    assert set(receiver.ids_delivered()) == {str(e.event_id) for e in OutboxEvent.objects.all()}


def test_sweeper_leaves_recent_deliveries_to_their_own_message(
    webhook_settings, api, patient, receiver, monkeypatch
):
    webhook_settings.OUTBOX_REDISPATCH_AFTER_SECONDS = 30
    subscribe(api, receiver.url)
    monkeypatch.setattr(tasks.deliver_subscription, "apply_async", lambda *a, **k: None)
    submit(api)
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).count() == 1
    assert outbox_sweep() == SweepResult(events=0, subscriptions=0, notifications=0)


def test_sweeper_resends_a_delivery_whose_worker_died(webhook_settings, api, patient, receiver, monkeypatch):
    subscribe(api, receiver.url, event_types=["intake.scored"])
    monkeypatch.setattr(tasks.deliver_subscription, "apply_async", lambda *a, **k: None)  # message lost
    submit(api)
    delivery = WebhookDelivery.objects.get()
    # As if a worker had claimed it and died: the lease is in the past.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=delivery.created_at - timedelta(seconds=5)
    )
    monkeypatch.undo()
    assert outbox_sweep().subscriptions == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and len(receiver.requests) == 1
