"""Recording events in the transactional outbox (delivery is the tasks' job)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from intake.models import Clinic, OutboxEvent

INTAKE_SCORED = "intake.scored"
FLAG_CREATED = "flag.created"
FLAG_UPDATED = "flag.updated"


def outbox_event(
    *, clinic: Clinic, event_type: str, subject_type: str, subject_id: Any, payload: dict[str, Any]
) -> OutboxEvent:
    """An unsaved event; pass a batch to outbox_record so one INSERT stores them all."""
    return OutboxEvent(
        clinic=clinic,
        event_type=event_type,
        subject_type=subject_type,
        subject_id=str(subject_id),
        payload=payload,
    )


def outbox_record(events: Iterable[OutboxEvent]) -> list[OutboxEvent]:
    """Store events in the caller's transaction and fan them out there and then.

    The matching webhook deliveries and immediate notifications are written in the same
    transaction (so an event is never stored without them), and after commit only the deliveries
    and e-mails themselves go to Celery. If the broker is down at commit the request still
    succeeds: the rows stay pending and the beat sweeper (intake.services.delivery.outbox_sweep)
    sends them later.
    """
    from .delivery import fan_out_on_commit

    now = timezone.now()
    pending = list(events)
    for event in pending:
        event.dispatched_at = now
    stored = OutboxEvent.objects.bulk_create(pending)
    fan_out_on_commit(stored)
    return stored
