"""The outbox survives a broker that is down at commit: the request succeeds, the sweeper re-sends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import TestCase
from kombu.exceptions import OperationalError

from intake import tasks
from intake.models import DeliveryStatus, FlagNotification, OutboxEvent, WebhookDelivery
from intake.services.delivery import SweepResult, outbox_sweep
from tests.delivery.support import URGENT_FLAG_ANSWERS, submit, subscribe

pytestmark = pytest.mark.django_db


def test_broker_down_at_commit_still_returns_201_and_the_sweeper_delivers(
    webhook_settings, api, patient, receiver, monkeypatch, caplog
):
    subscribe(api, receiver.url)

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    with monkeypatch.context() as patched:
        for task in (tasks.deliver_webhook, tasks.deliver_webhooks, tasks.send_notification):
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
    assert (result.deliveries, result.notifications) == (2, 1)
    assert set(receiver.ids_delivered()) == {str(e.event_id) for e in events}
    assert FlagNotification.objects.filter(sent_at=None).count() == 0


def test_without_subscriptions_or_urgent_flags_nothing_is_published(
    webhook_settings, api, patient, monkeypatch
):
    published = []
    for task in (
        tasks.deliver_webhook,
        tasks.deliver_webhooks,
        tasks.send_notification,
        tasks.dispatch_events,
    ):
        monkeypatch.setattr(task, "apply_async", lambda *a, **k: published.append((a, k)))
    submit(api)
    assert OutboxEvent.objects.filter(dispatched_at=None).count() == 0
    assert published == []


def test_one_message_per_subscription_carries_its_deliveries_in_event_order(
    webhook_settings, api, patient, receiver, monkeypatch
):
    first, second = subscribe(api, receiver.url), subscribe(api, receiver.url)
    published = []
    for task in (tasks.deliver_webhook, tasks.deliver_webhooks):
        monkeypatch.setattr(task, "apply_async", lambda *a, task=task, **k: published.append((task, k)))
    submit(api, **URGENT_FLAG_ANSWERS)  # intake.scored + flag.created
    assert [task for task, _ in published] == [tasks.deliver_webhooks, tasks.deliver_webhooks]
    by_subscription = {}
    for _, kwargs in published:
        (ids,) = kwargs["args"]
        deliveries = [WebhookDelivery.objects.select_related("event").get(pk=i) for i in ids]
        assert [d.event.event_type for d in deliveries] == ["intake.scored", "flag.created"]
        assert deliveries[0].event.seq < deliveries[1].event.seq
        (subscription,) = {str(d.subscription_id) for d in deliveries}
        by_subscription[subscription] = ids
    assert set(by_subscription) == {first["id"], second["id"]}

    monkeypatch.undo()
    for ids in by_subscription.values():
        tasks.deliver_webhooks.apply(args=(ids,))
    assert sum(receiver.ids_delivered().values()) == 4
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 4


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
    monkeypatch.setattr(tasks.deliver_webhook, "apply_async", lambda *a, **k: None)
    submit(api)
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).count() == 1
    assert outbox_sweep() == SweepResult(events=0, deliveries=0, notifications=0)


def test_sweeper_resends_a_delivery_whose_worker_died(webhook_settings, api, patient, receiver, monkeypatch):
    subscribe(api, receiver.url, event_types=["intake.scored"])
    monkeypatch.setattr(tasks.deliver_webhook, "apply_async", lambda *a, **k: None)  # message lost
    submit(api)
    delivery = WebhookDelivery.objects.get()
    # As if a worker had claimed it and died: the lease is in the past.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=delivery.created_at - timedelta(seconds=5)
    )
    monkeypatch.undo()
    assert outbox_sweep().deliveries == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and len(receiver.requests) == 1
