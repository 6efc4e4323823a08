"""SLA escalation: open flags past their due time are escalated once, with history, an outbox
event and an email to the clinic's admins."""

from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.utils import timezone

from intake.dispatch import SEND_NOTIFICATION, publish
from intake.models import FlagEvent, FlagNotification, FlagStatus, NotificationKind, ReferralFlag

from .intakes import FLAG_UPDATED, flag_outbox_event
from .outbox import outbox_record

logger = logging.getLogger(__name__)

ESCALATION_ACTOR = "system:escalation"
BATCH_LIMIT = 500


def flag_escalate(*, flag_id: uuid.UUID) -> bool:
    """Escalate one overdue open flag; False if it is not (or no longer) due for escalation.

    The row lock and the `escalated_at IS NULL` re-check make it happen once even when two
    workers run the sweep at the same moment.
    """
    now = timezone.now()
    with transaction.atomic():
        flag = (
            ReferralFlag.objects.select_for_update(of=("self",))
            .select_related("revision", "clinic")
            .filter(pk=flag_id, status=FlagStatus.OPEN, escalated_at=None, due_at__lt=now)
            .first()
        )
        if flag is None:
            return False
        flag.escalated_at = now
        flag.version += 1
        flag.updated_at = now
        flag.save(update_fields=["escalated_at", "version", "updated_at"])
        FlagEvent.objects.create(
            flag=flag,
            action="escalated",
            from_status=flag.status,
            to_status=flag.status,
            note="Still open past its due time.",
            actor=ESCALATION_ACTOR,
        )
        outbox_record([flag_outbox_event(FLAG_UPDATED, flag, action="escalated", clinic=flag.clinic)])
        notification = FlagNotification.objects.create(flag=flag, kind=NotificationKind.ESCALATION)
        transaction.on_commit(
            lambda: publish(SEND_NOTIFICATION, notification.pk, log_ids=f"escalation of flag {flag_id}")
        )
    logger.info("escalated overdue flag %s (%s)", flag_id, flag.priority)
    return True


def flags_escalate_overdue() -> int:
    """Escalate every open flag past `due_at` that was not escalated yet; returns how many."""
    overdue = list(
        ReferralFlag.objects.filter(status=FlagStatus.OPEN, escalated_at=None, due_at__lt=timezone.now())
        .order_by("due_at")
        .values_list("pk", flat=True)[:BATCH_LIMIT]
    )
    return sum(flag_escalate(flag_id=flag_id) for flag_id in overdue)
