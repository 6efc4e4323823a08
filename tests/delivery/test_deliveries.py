"""Fan-out, retries, dead letters, redelivery and the delivered document (eager tasks, local receiver)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from intake import tasks
from intake.models import DeliveryStatus, OutboxEvent, WebhookDelivery, WebhookSubscription
from intake.services.delivery import outbox_dispatch, outbox_sweep
from intake.services.webhook_signature import verify_webhook
from tests.delivery.support import URGENT_FLAG_ANSWERS, Receiver, intake_body, submit, subscribe

pytestmark = pytest.mark.django_db


def test_every_event_is_delivered_signed_with_the_event_id(webhook_settings, api, patient, receiver):
    subscription = subscribe(api, receiver.url)
    submit(api, **URGENT_FLAG_ANSWERS)
    events = {str(e.event_id): e for e in OutboxEvent.objects.all()}
    assert {e.event_type for e in events.values()} == {"intake.scored", "flag.created"}
    assert set(receiver.ids_delivered()) == set(events)
    for request in receiver.requests:
        assert verify_webhook(subscription["secret"], request["headers"], request["body"])
        body = json.loads(request["body"])
        event = events[request["headers"]["webhook-id"]]
        assert body["id"] == str(event.event_id) and body["seq"] == event.seq
        assert body["type"] == event.event_type and body["occurred_at"] == event.occurred_at.isoformat()
        assert body["data"] == event.payload
    flag_body = next(b for b in receiver.bodies() if b["type"] == "flag.created")
    assert flag_body["data"]["version"] == 1 and flag_body["data"]["priority"] == "urgent"


def test_fan_out_is_idempotent(webhook_settings, api, patient, receiver):
    subscribe(api, receiver.url)
    subscribe(api, receiver.url, event_types=["flag.created"])
    submit(api, **URGENT_FLAG_ANSWERS)
    assert WebhookDelivery.objects.count() == 3  # intake.scored ×1, flag.created ×2
    for event in OutboxEvent.objects.all():
        OutboxEvent.objects.filter(pk=event.pk).update(dispatched_at=None)
        outbox_dispatch(seq=event.seq)
        outbox_dispatch(seq=event.seq)
    assert WebhookDelivery.objects.count() == 3
    assert len(receiver.requests) == 3


def test_only_subscribed_active_same_clinic_subscriptions_receive(
    webhook_settings, api, api_for, other_clinic, patient, receiver
):
    subscribe(api, receiver.url, event_types=["flag.updated"])
    inactive = subscribe(api, receiver.url)
    WebhookSubscription.objects.filter(pk=inactive["id"]).update(is_active=False)
    subscribe(api_for(other_clinic), receiver.url)
    submit(api, **URGENT_FLAG_ANSWERS)
    assert WebhookDelivery.objects.count() == 0 and receiver.requests == []


@pytest.mark.parametrize(
    ("receiver_kind", "connections"), [("keep_alive", 1), ("closes", 2), ("drops_idle", 2)]
)
def test_an_intakes_deliveries_share_one_connection_when_the_receiver_keeps_it_open(
    webhook_settings, api, patient, receiver_kind, connections
):
    receiver = Receiver(keep_alive=receiver_kind != "closes", drop_idle=receiver_kind == "drops_idle")
    try:
        subscribe(api, receiver.url)
        submit(api, **URGENT_FLAG_ANSWERS)  # intake.scored + flag.created, one message
        # A connection dropped while idle is replaced once, so nothing is lost or sent twice.
        assert [b["type"] for b in receiver.bodies()] == ["intake.scored", "flag.created"]
        assert len({r["peer"] for r in receiver.requests}) == connections
        assert [d.attempt_count for d in WebhookDelivery.objects.all()] == [1, 1]
        assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 2
    finally:
        receiver.close()


def test_in_one_message_each_delivery_keeps_its_own_outcome(webhook_settings, api, patient, receiver):
    receiver.plan = [500]  # the first request (intake.scored) fails once
    subscribe(api, receiver.url)
    submit(api, **URGENT_FLAG_ANSWERS)
    attempts = {
        d.event.event_type: [a.status_code for a in d.attempts.all()]
        for d in WebhookDelivery.objects.select_related("event")
    }
    assert attempts == {"intake.scored": [500, 200], "flag.created": [200]}
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 2


def test_500_twice_then_200_is_delivered_on_the_third_try(webhook_settings, api, patient, receiver):
    receiver.plan = [500, 500, 200]
    subscribe(api, receiver.url, event_types=["intake.scored"])
    submit(api)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert [(a.number, a.status_code) for a in delivery.attempts.all()] == [(1, 500), (2, 500), (3, 200)]
    assert all(a.latency_ms >= 0 for a in delivery.attempts.all())
    assert len(set(receiver.ids_delivered())) == 1


def test_a_receiver_that_always_fails_is_dead_lettered_with_every_attempt(
    webhook_settings, api, patient, receiver
):
    receiver.default_status = 503
    subscribe(api, receiver.url, event_types=["intake.scored"])
    submit(api)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.DEAD and delivery.dead_at is not None
    assert delivery.attempt_count == len(webhook_settings.WEBHOOK_RETRY_SCHEDULE) + 1 == 4
    assert [a.status_code for a in delivery.attempts.all()] == [503] * 4
    assert delivery.last_error == "HTTP 503"


@pytest.mark.parametrize(("status", "attempts"), [(400, 1), (404, 1), (410, 1), (429, 4), (408, 4)])
def test_client_errors_are_not_retried_except_408_and_429(
    webhook_settings, api, patient, receiver, status, attempts
):
    receiver.default_status = status
    subscribe(api, receiver.url, event_types=["intake.scored"])
    submit(api)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.DEAD, attempts)


def test_connection_errors_are_retried_then_dead_lettered(webhook_settings, api, patient, receiver):
    subscribe(api, receiver.url, event_types=["intake.scored"])
    receiver.close()  # nothing listens on the port any more
    submit(api)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.DEAD and delivery.attempt_count == 4
    assert delivery.last_error.startswith("connection:")


def test_dead_letters_are_listed_and_redelivery_sends_the_same_id(
    webhook_settings, api, patient, receiver, django_capture_on_commit_callbacks
):
    receiver.default_status = 500
    subscription = subscribe(api, receiver.url, event_types=["intake.scored"])
    submit(api)
    dead = api.get(f"/api/v1/webhooks/{subscription['id']}/deliveries/?status=dead").json()["results"]
    assert len(dead) == 1 and dead[0]["status"] == "dead" and len(dead[0]["attempts"]) == 4
    receiver.default_status = 200
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/webhooks/deliveries/{dead[0]['id']}/redeliver/")
    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempt_count == 5
    assert {r["headers"]["webhook-id"] for r in receiver.requests} == {dead[0]["event_id"]}
    detail = api.get(f"/api/v1/webhooks/deliveries/{delivery.pk}/").json()
    assert detail["status"] == "delivered" and detail["attempts"][-1]["status_code"] == 200


def test_fhir_subscriptions_receive_a_bundle(webhook_settings, api, patient, receiver):
    subscribe(api, receiver.url, format="fhir")
    submit(api, **URGENT_FLAG_ANSWERS)
    bundles = {b["entry"][0]["resource"]["parameter"][1]["valueString"]: b for b in receiver.bodies()}
    assert set(bundles) == {"intake.scored", "flag.created"}
    flag_bundle = bundles["flag.created"]
    assert flag_bundle["resourceType"] == "Bundle" and flag_bundle["type"] == "collection"
    types = [entry["resource"]["resourceType"] for entry in flag_bundle["entry"]]
    assert types == ["Parameters", "Flag", "ServiceRequest", "Task"]
    assert receiver.requests[0]["headers"]["content-type"] == "application/fhir+json"
    from fhir.resources.R4B.bundle import Bundle

    for bundle in bundles.values():
        Bundle.model_validate(bundle)


def test_urgent_flags_email_coordinators_once_without_phi(webhook_settings, api, patient, receiver):
    from tests.factories import MembershipFactory

    MembershipFactory(clinic=patient.clinic, role="coordinator")
    MembershipFactory(clinic=patient.clinic, role="reception")
    submit(api, **URGENT_FLAG_ANSWERS)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "urgent" in message.subject and len(message.to) == 1
    assert patient.family_name not in message.body and str(patient.pk) not in message.body
    for event in OutboxEvent.objects.all():  # a re-dispatch does not mail again
        OutboxEvent.objects.filter(pk=event.pk).update(dispatched_at=None)
        outbox_dispatch(seq=event.seq)
    assert len(mail.outbox) == 1


def test_a_flags_update_is_never_delivered_before_its_creation(
    webhook_settings, api, patient, receiver, django_capture_on_commit_callbacks
):
    receiver.plan = [503]  # the creation's first try fails; its retry is due later
    webhook_settings.WEBHOOK_RETRY_SCHEDULE = [600]
    subscription = subscribe(api, receiver.url, event_types=["flag.created", "flag.updated"])
    flag_id = submit(api, **URGENT_FLAG_ANSWERS)["flags"][0]["id"]
    created = WebhookDelivery.objects.get(event__event_type="flag.created")
    assert created.status == DeliveryStatus.PENDING and created.next_attempt_at > timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/v1/flags/{flag_id}/acknowledge/", {}, format="json").status_code == 200
    # The failure paused the subscription: the update is not looked at before the creation's retry.
    assert WebhookSubscription.objects.get(pk=subscription["id"]).paused_until == created.next_attempt_at
    assert WebhookDelivery.objects.get(event__event_type="flag.updated").attempt_count == 0
    _lift_pause(api, subscription["id"], django_capture_on_commit_callbacks)

    updated = WebhookDelivery.objects.get(event__event_type="flag.updated")
    # The update's attempt found the creation still pending: nothing sent, tried again later.
    assert len(receiver.requests) == 1
    assert updated.status == DeliveryStatus.PENDING and updated.attempt_count == 0
    assert updated.next_attempt_at > timezone.now()

    past = timezone.now() - timedelta(seconds=1)
    WebhookDelivery.objects.filter(pk=created.pk).update(next_attempt_at=past, enqueued_at=past)
    with django_capture_on_commit_callbacks(execute=True):
        outbox_sweep()  # re-sends the creation; the update is not due yet
    assert [b["type"] for b in receiver.bodies()] == ["flag.created", "flag.created"]
    WebhookDelivery.objects.filter(pk=updated.pk).update(next_attempt_at=past, enqueued_at=past)
    with django_capture_on_commit_callbacks(execute=True):
        outbox_sweep()
    delivered = [b for b, r in zip(receiver.bodies(), receiver.requests, strict=True) if r["status"] == 200]
    assert [(b["type"], b["data"]["version"]) for b in delivered] == [
        ("flag.created", 1),
        ("flag.updated", 2),
    ]
    assert delivered[0]["seq"] < delivered[1]["seq"]


def test_an_update_also_waits_for_an_earlier_event_not_yet_fanned_out(
    webhook_settings, api, patient, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    subscribe(api, receiver.url, event_types=["flag.created", "flag.updated"])
    with monkeypatch.context() as lost:
        for task in (tasks.deliver_webhook, tasks.deliver_subscription):
            lost.setattr(task, "apply_async", lambda *a, **k: None)
        flag_id = submit(api, **URGENT_FLAG_ANSWERS)["flags"][0]["id"]
    # As if flag.created had been stored without its fan-out.
    WebhookDelivery.objects.filter(event__event_type="flag.created").delete()
    OutboxEvent.objects.filter(event_type="flag.created").update(dispatched_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/v1/flags/{flag_id}/acknowledge/", {}, format="json").status_code == 200
    assert receiver.requests == []
    assert WebhookDelivery.objects.get(event__event_type="flag.updated").attempt_count == 0


def test_a_revisions_scores_wait_for_the_first_revisions(
    webhook_settings, api, patient, receiver, django_capture_on_commit_callbacks
):
    receiver.plan = [503]  # revision 1's intake.scored fails once; its retry is due later
    webhook_settings.WEBHOOK_RETRY_SCHEDULE = [600]
    subscription = subscribe(api, receiver.url, event_types=["intake.scored"])
    intake_id = submit(api)["id"]
    body = intake_body()
    del body["patient"]
    body["reason"] = "transcription error"
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/intakes/{intake_id}/revisions/", body, format="json")
    assert response.status_code == 201
    _lift_pause(api, subscription["id"], django_capture_on_commit_callbacks)  # revision 1 still waits
    second = WebhookDelivery.objects.get(event__payload__revision=2)
    assert second.attempt_count == 0 and second.next_attempt_at > timezone.now()
    assert len(receiver.requests) == 1  # only revision 1's failed try


def _lift_pause(api, subscription_id, capture_on_commit_callbacks):
    """Change the subscription (which lifts its pause and wakes its sender at once), so the
    ordering check, not the pause, is what holds a later event back."""
    with capture_on_commit_callbacks(execute=True):
        response = api.patch(f"/api/v1/webhooks/{subscription_id}/", {"description": "x"}, format="json")
    assert response.status_code == 200 and response.json()["paused_until"] is None
