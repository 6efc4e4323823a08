"""Coordinator emails: emergency and urgent flags at once, routine flags in a daily digest, and
overdue escalations to clinic admins. Each is a FlagNotification row (one per flag and kind),
so a flag is announced once however often the tasks run.

No PHI leaves by email: only the flag's kind, priority, due time and a link to the staff UI.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from intake.models import (
    ACTIVE_STATUSES,
    Clinic,
    FlagNotification,
    NotificationKind,
    Priority,
    ReferralFlag,
    Role,
    StaffMembership,
)

logger = logging.getLogger(__name__)

RECIPIENT_ROLES = {
    NotificationKind.IMMEDIATE: (Role.COORDINATOR,),
    NotificationKind.DIGEST: (Role.COORDINATOR,),
    NotificationKind.ESCALATION: (Role.CLINIC_ADMIN,),
}


def staff_emails(*, clinic_id: int, roles: tuple[str, ...]) -> list[str]:
    """Email addresses of the clinic's active staff in these roles."""
    emails = (
        StaffMembership.objects.filter(clinic_id=clinic_id, role__in=roles, user__is_active=True)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    return sorted(set(emails))


def flag_link(flag: ReferralFlag) -> str:
    return f"{settings.NOTIFICATION_BASE_URL.rstrip('/')}/admin/intake/referralflag/{flag.pk}/change/"


def _flag_line(flag: ReferralFlag) -> str:
    due = flag.due_at.astimezone(datetime.UTC)
    return (
        f"- {flag.kind.replace('_', ' ')} ({flag.priority}), due {due:%Y-%m-%d %H:%M} UTC: {flag_link(flag)}"
    )


def notification_send(*, notification_id: int) -> bool:
    """Send one immediate or escalation email unless already sent; True if sent now.

    The row is locked while sending and marked in the same transaction, so two workers never both
    send it. A crash after the mail left but before the commit sends it once more (at-least-once).
    """
    with transaction.atomic():
        notification = (
            FlagNotification.objects.select_for_update(of=("self",))
            .select_related("flag", "flag__clinic")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.sent_at is not None:
            return False
        flag = notification.flag
        recipients = staff_emails(
            clinic_id=flag.clinic_id, roles=RECIPIENT_ROLES[NotificationKind(notification.kind)]
        )
        if notification.kind == NotificationKind.ESCALATION:
            subject = f"[{flag.clinic.name}] Overdue {flag.priority} referral flag"
            intro = "This referral flag is past its due time and still open:"
        else:
            subject = f"[{flag.clinic.name}] New {flag.priority} referral flag"
            intro = "A referral flag needs action:"
        if recipients:
            send_mail(subject, f"{intro}\n\n{_flag_line(flag)}\n", None, recipients)
        else:
            logger.warning("no recipients for %s notification of flag %s", notification.kind, flag.pk)
        notification.sent_at = timezone.now()
        notification.recipients = len(recipients)
        notification.save(update_fields=["sent_at", "recipients"])
    logger.info("sent %s notification for flag %s to %d staff", notification.kind, flag.pk, len(recipients))
    return True


def routine_digest_send(*, clinic_id: int) -> int:
    """Email a clinic's coordinators the routine flags raised since the last digest; returns how many."""
    with transaction.atomic():
        # Lock the clinic: two digest runs for one clinic serialise, the second finds nothing new.
        clinic = Clinic.objects.select_for_update().get(pk=clinic_id)
        flags = list(
            ReferralFlag.objects.filter(clinic=clinic, priority=Priority.ROUTINE, status__in=ACTIVE_STATUSES)
            .exclude(notifications__kind=NotificationKind.DIGEST)
            .order_by("due_at")
        )
        if not flags:
            return 0
        recipients = staff_emails(clinic_id=clinic.pk, roles=RECIPIENT_ROLES[NotificationKind.DIGEST])
        now = timezone.now()
        FlagNotification.objects.bulk_create(
            [
                FlagNotification(
                    flag=flag, kind=NotificationKind.DIGEST, sent_at=now, recipients=len(recipients)
                )
                for flag in flags
            ]
        )
        if recipients:
            lines = "\n".join(_flag_line(flag) for flag in flags)
            send_mail(
                f"[{clinic.name}] {len(flags)} new routine referral flag(s)",
                f"Routine referral flags raised since the last digest:\n\n{lines}\n",
                None,
                recipients,
            )
    logger.info("routine digest for clinic %s: %d flags to %d staff", clinic_id, len(flags), len(recipients))
    return len(flags)


def clinics_with_undigested_flags() -> list[int]:
    return list(
        ReferralFlag.objects.filter(priority=Priority.ROUTINE, status__in=ACTIVE_STATUSES)
        .exclude(notifications__kind=NotificationKind.DIGEST)
        .values_list("clinic_id", flat=True)
        .distinct()
    )
