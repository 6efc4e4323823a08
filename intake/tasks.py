"""Celery tasks: thin wrappers that call services. Ids in, never model instances."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import DatabaseError

from intake import dispatch
from intake.services import delivery, escalation, notifications, restratify


@shared_task(name=dispatch.PING, acks_late=True, time_limit=10, soft_time_limit=5)
def ping() -> str:
    """Health task: proves a broker → worker → result-backend round trip."""
    return "pong"


# --- Outbox, webhooks, notifications, escalation, re-stratification (README, Delivery) ---
# Every task takes ids, is idempotent (safe to run twice, or concurrently), acknowledges late and
# retries a bounded number of times on database errors only; HTTP failures of a webhook follow
# the delivery's own schedule in the database (intake.services.delivery.retry_delay).

_DB_RETRY: dict[str, Any] = {
    "acks_late": True,
    "autoretry_for": (DatabaseError,),
    "max_retries": 5,
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "ignore_result": True,
}


@shared_task(name=dispatch.DISPATCH_EVENTS, time_limit=120, soft_time_limit=100, **_DB_RETRY)
def dispatch_events(seqs: list[int]) -> None:
    """Fan out events stored without their fan-out (the sweeper's path; new events fan out in
    the transaction that stores them)."""
    for seq in seqs:
        delivery.outbox_dispatch(seq=seq)


@shared_task(name=dispatch.DELIVER_WEBHOOK, time_limit=30, soft_time_limit=20, **_DB_RETRY)
def deliver_webhook(delivery_id: str) -> None:
    """One attempt at a webhook delivery; schedules the next one when it is due soon."""
    _publish_retries(delivery.deliveries_attempt(delivery_ids=[delivery_id]).delays)


@shared_task(name=dispatch.DELIVER_SUBSCRIPTION, time_limit=120, soft_time_limit=100, **_DB_RETRY)
def deliver_subscription(subscription_id: str) -> None:
    """Send a subscription's due deliveries in event order, over one connection (a wake-up after
    commit: one message may carry the events of many intakes)."""
    result = delivery.subscription_deliver_due(subscription_id=subscription_id)
    _publish_retries(result.delays)
    if result.resume_after is not None and result.resume_after <= delivery.MAX_COUNTDOWN_SECONDS:
        dispatch.publish(
            dispatch.DELIVER_SUBSCRIPTION,
            subscription_id,
            countdown=result.resume_after,
            log_ids=f"subscription {subscription_id}",
        )


def _publish_retries(delays: dict[Any, float]) -> None:
    """Publish each next try that is due soon (the sweeper has the rest)."""
    for delivery_id, delay in delays.items():
        dispatch.publish(
            dispatch.DELIVER_WEBHOOK, str(delivery_id), countdown=delay, log_ids=f"delivery {delivery_id}"
        )


@shared_task(name=dispatch.SWEEP_OUTBOX, time_limit=120, soft_time_limit=100, **_DB_RETRY)
def sweep_outbox() -> None:
    """Beat: re-send undispatched events, overdue deliveries and unsent notifications."""
    delivery.outbox_sweep()


@shared_task(name=dispatch.SEND_NOTIFICATION, time_limit=60, soft_time_limit=50, **_DB_RETRY)
def send_notification(notification_id: int) -> None:
    notifications.notification_send(notification_id=notification_id)


@shared_task(name=dispatch.ROUTINE_DIGEST, time_limit=600, soft_time_limit=540, **_DB_RETRY)
def routine_digest() -> None:
    """Beat, daily: one digest email per clinic with new routine flags."""
    for clinic_id in notifications.clinics_with_undigested_flags():
        notifications.routine_digest_send(clinic_id=clinic_id)


@shared_task(name=dispatch.ESCALATE_OVERDUE, time_limit=300, soft_time_limit=270, **_DB_RETRY)
def escalate_overdue() -> None:
    """Beat: escalate open flags past their due time (each once)."""
    escalation.flags_escalate_overdue()


@shared_task(name=dispatch.RESTRATIFY_BATCH, time_limit=600, soft_time_limit=540, **_DB_RETRY)
def restratify_batch(batch_id: int) -> None:
    restratify.restratify_batch(batch_id=batch_id)
