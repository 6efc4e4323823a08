"""Recording events in the transactional outbox (delivery is the tasks' job)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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
    """Store events in the caller's transaction (one INSERT); a worker fans them out after commit.

    If the broker is down at commit the request still succeeds: the rows stay undispatched and
    the beat sweeper (intake.services.delivery.outbox_sweep) sends them later.
    """
    from .delivery import outbox_dispatch_on_commit

    stored = OutboxEvent.objects.bulk_create(list(events))
    outbox_dispatch_on_commit([event.seq for event in stored if event.seq is not None])
    return stored
