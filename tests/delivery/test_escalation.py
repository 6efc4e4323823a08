"""SLA escalation and the routine digest: each happens once per flag."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from intake.models import FlagEvent, FlagNotification, OutboxEvent, ReferralFlag
from intake.services.escalation import flags_escalate_overdue
from intake.services.notifications import routine_digest_send
from intake.tasks import escalate_overdue, routine_digest
from tests.delivery.support import ROUTINE_FLAG_ANSWERS, URGENT_FLAG_ANSWERS, submit
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_an_overdue_open_flag_is_escalated_once(webhook_settings, api, patient):
    MembershipFactory(clinic=patient.clinic, role="clinic_admin")
    submit(api, **URGENT_FLAG_ANSWERS)
    flag = ReferralFlag.objects.get()
    ReferralFlag.objects.filter(pk=flag.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    mail.outbox.clear()

    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        escalate_overdue.delay()
    with TestCase.captureOnCommitCallbacks(execute=True):
        escalate_overdue.delay()
    assert flags_escalate_overdue() == 0

    flag.refresh_from_db()
    assert flag.escalated_at is not None and flag.version == 2 and flag.status == "open"
    assert FlagEvent.objects.filter(flag=flag, action="escalated").count() == 1
    updates = OutboxEvent.objects.filter(event_type="flag.updated")
    assert updates.count() == 1 and updates.get().payload["action"] == "escalated"
    assert FlagNotification.objects.filter(flag=flag, kind="escalation").count() == 1
    assert len(mail.outbox) == 1 and "Overdue" in mail.outbox[0].subject


def test_flags_not_yet_due_or_not_open_are_not_escalated(webhook_settings, api, patient):
    submit(api, **URGENT_FLAG_ANSWERS)
    assert flags_escalate_overdue() == 0
    ReferralFlag.objects.update(due_at=timezone.now() - timedelta(minutes=1), status="acknowledged")
    assert flags_escalate_overdue() == 0


def test_routine_flags_wait_for_one_digest(webhook_settings, api, patient):
    MembershipFactory(clinic=patient.clinic, role="coordinator")
    submit(api, **ROUTINE_FLAG_ANSWERS)
    assert mail.outbox == []  # routine: no immediate email
    routine_digest.delay()
    assert len(mail.outbox) == 1 and "routine" in mail.outbox[0].subject
    assert patient.family_name not in mail.outbox[0].body
    routine_digest.delay()
    assert routine_digest_send(clinic_id=patient.clinic_id) == 0
    assert len(mail.outbox) == 1
