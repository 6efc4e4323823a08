"""The transactional outbox: every event is a row written in the same transaction as the change."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from .clinic import Clinic


class OutboxEvent(models.Model):
    """An event to deliver. `seq` orders events; `event_id` is stable across every retry."""

    seq = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="outbox_events")
    event_type = models.CharField(max_length=50)
    subject_type = models.CharField(max_length=30)
    subject_id = models.CharField(max_length=64)
    payload = models.JSONField()
    occurred_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True, help_text="Handed to Celery (fan-out done).")

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(
                fields=["occurred_at"],
                name="outbox_undispatched",
                condition=models.Q(dispatched_at__isnull=True),
            ),
            # The earlier events about one subject (delivery ordering asks before every attempt).
            models.Index(fields=["clinic", "subject_type", "subject_id", "seq"], name="outbox_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"
