"""The audit trail: who touched which patient's data, how, and with what outcome. Append-only.

No PHI values are stored: ids, types and outcomes only. Rows cannot be updated or deleted through
the ORM (this module) nor, on PostgreSQL, through SQL (a trigger added by the migration).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from .clinic import Clinic


class AppendOnlyError(Exception):
    """The audit trail is append-only."""


class AuditQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit events cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events cannot be deleted.")


class AuditAction(models.TextChoices):
    CREATE = "create", "Create"
    READ = "read", "Read"
    UPDATE = "update", "Update"
    EXPORT = "export", "Export"


class AuditOutcome(models.TextChoices):
    SUCCESS = "success", "Success"
    DENIED = "denied", "Denied"
    NOT_FOUND = "not_found", "Not found"
    INVALID = "invalid", "Invalid request"
    ERROR = "error", "Error"


class AuditEvent(models.Model):
    at = models.DateTimeField(default=timezone.now, db_index=True)
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="audit_events", null=True)
    actor = models.CharField(max_length=100, help_text="client:<id>, user:<id> or anonymous.")
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64, blank=True)
    patient_id = models.UUIDField(null=True, blank=True, db_index=True)
    outcome = models.CharField(max_length=10, choices=AuditOutcome.choices)
    status_code = models.PositiveSmallIntegerField()
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300, help_text="The URL path (ids only; no query string).")
    client_address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["clinic", "patient_id", "at"], name="audit_clinic_patient")]

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.object_type} {self.object_id} ({self.outcome})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit events cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("Audit events cannot be deleted.")
