"""Referral flags: what a coordinator must act on, with priority, due time and history."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from .clinic import Clinic
from .intake import Intake, IntakeRevision, StratificationRecord
from .patient import Patient


class Priority(models.TextChoices):
    EMERGENCY = "emergency", "Emergency"
    URGENT = "urgent", "Urgent"
    ROUTINE = "routine", "Routine"


PRIORITY_RANK = {Priority.EMERGENCY: 0, Priority.URGENT: 1, Priority.ROUTINE: 2}


class FlagStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    IN_PROGRESS = "in_progress", "In progress"
    CLOSED = "closed", "Closed"
    DISMISSED = "dismissed", "Dismissed"
    SUPERSEDED = "superseded", "Superseded by a corrected revision"


ACTIVE_STATUSES = (FlagStatus.OPEN, FlagStatus.ACKNOWLEDGED, FlagStatus.IN_PROGRESS)


class ReferralFlag(models.Model):
    """One per (intake, kind). `version` increases on every change and is the ETag."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="flags")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="flags")
    intake = models.ForeignKey(Intake, on_delete=models.PROTECT, related_name="flags")
    revision = models.ForeignKey(
        IntakeRevision, on_delete=models.PROTECT, related_name="flags", help_text="Revision that raised it."
    )
    stratification = models.ForeignKey(StratificationRecord, on_delete=models.PROTECT, related_name="flags")
    kind = models.CharField(max_length=50)
    priority = models.CharField(max_length=10, choices=Priority.choices)
    priority_rank = models.PositiveSmallIntegerField(help_text="0 emergency, 1 urgent, 2 routine: sort key.")
    status = models.CharField(max_length=15, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    due_at = models.DateTimeField()
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_flags",
    )
    reasons = models.JSONField(help_text="Rule ids and evidence that raised the flag.")
    status_reason = models.TextField(blank=True, help_text="Why it was dismissed, closed or superseded.")
    escalated_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority_rank", "due_at"]
        constraints = [
            models.UniqueConstraint(fields=["intake", "kind"], name="flag_one_per_intake_kind"),
            models.CheckConstraint(
                condition=models.Q(priority__in=Priority.values), name="flag_priority_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=FlagStatus.values), name="flag_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["clinic", "status", "priority_rank", "due_at"], name="flag_worklist"),
            models.Index(fields=["clinic", "patient"], name="flag_patient"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.priority}, {self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class FlagEvent(models.Model):
    """History of a flag: every transition, who made it and why."""

    flag = models.ForeignKey(ReferralFlag, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=15, blank=True)
    to_status = models.CharField(max_length=15)
    assignee_id_after = models.BigIntegerField(null=True, blank=True)
    note = models.TextField(blank=True)
    actor = models.CharField(max_length=100)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["flag", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.action}: {self.from_status or '-'} → {self.to_status}"


class IdempotencyRecord(models.Model):
    """A request made with an Idempotency-Key: replayed verbatim when retried with the same body."""

    actor = models.CharField(max_length=100, help_text="client:<id> or user:<id> — keys are per caller.")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    # Text, not JSON: replays must be byte-for-byte what was first sent (jsonb reorders keys).
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["actor", "key"], name="idempotency_key_unique_per_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.actor} {self.key}"
