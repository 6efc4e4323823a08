"""Clinics are the tenants: every patient, intake and flag belongs to exactly one."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from intake.batteries import DEFAULT_FORMS


def _default_forms() -> list[str]:
    return list(DEFAULT_FORMS)


class Clinic(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    enabled_forms = models.JSONField(default=_default_forms, help_text="Intake form codes this clinic uses.")
    # Referral flag due times (docs/clinical-reference.md §23 defaults: 1 hour, 24 hours, 5 working days).
    emergency_due_within_minutes = models.PositiveIntegerField(default=60)
    urgent_due_within_hours = models.PositiveIntegerField(default=24)
    routine_due_within_working_days = models.PositiveIntegerField(default=5)
    timezone = models.CharField(
        max_length=50, default="UTC", help_text="IANA zone for working-day due times."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    RECEPTION = "reception", "Reception"
    COORDINATOR = "coordinator", "Care coordinator"
    CLINICIAN = "clinician", "Clinician"
    CLINIC_ADMIN = "clinic_admin", "Clinic administrator"


class StaffMembership(models.Model):
    """A staff user's role in one clinic. A user may work in several clinics."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "clinic"], name="membership_one_role_per_clinic"),
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.clinic} ({self.role})"


class IntegrationClient(models.Model):
    """An EHR integration: an OAuth 2.0 client-credentials application bound to one clinic.

    The secret is held (hashed) by django-oauth-toolkit's Application; `scopes` is the most this
    client may ever be granted.
    """

    application = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        on_delete=models.CASCADE,
        related_name="integration_client",
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="integration_clients")
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.application.name} ({self.clinic.slug})"
