"""Intakes: a patient's answers to a form, kept as immutable revisions with their scores and
the stratification each ruleset produced."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models

from .clinic import Clinic
from .patient import Patient


class Intake(models.Model):
    """One completed questionnaire battery. Its answers live in revisions; the newest is current."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="intakes")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="intakes")
    form_code = models.CharField(max_length=50)
    form_version = models.CharField(max_length=20)
    completed_at = models.DateTimeField(help_text="When the patient completed the current revision.")
    current_revision = models.OneToOneField(
        "IntakeRevision", on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = models.CharField(max_length=100, help_text="Actor: client:<id> or user:<id>.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["clinic", "patient", "completed_at"], name="intake_patient_time"),
        ]

    def __str__(self) -> str:
        return f"{self.form_code} for {self.patient_id} at {self.completed_at:%Y-%m-%d}"


class IntakeSource(models.TextChoices):
    API = "api", "API (JSON)"
    FHIR = "fhir", "FHIR QuestionnaireResponse"
    ADMIN = "admin", "Staff transcription"


class ImmutableRowError(Exception):
    """Raw answers are never changed in place: a correction is a new revision."""


class IntakeRevision(models.Model):
    """The raw answers exactly as given. Never updated: corrections add a revision."""

    intake = models.ForeignKey(Intake, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField()
    completed_at = models.DateTimeField()
    responses = models.JSONField(help_text="Raw answers per instrument, as marked.")
    pain_duration_weeks = models.PositiveIntegerField(null=True, blank=True)
    work_status = models.CharField(max_length=40, blank=True)
    medications = models.JSONField(default=list)
    source = models.CharField(max_length=10, choices=IntakeSource.choices)
    source_document = models.JSONField(null=True, blank=True, help_text="The FHIR resource as received.")
    reason = models.TextField(blank=True, help_text="Why this correction was made.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=100)

    class Meta:
        ordering = ["intake", "number"]
        constraints = [
            models.UniqueConstraint(fields=["intake", "number"], name="revision_number_unique"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="revision_number_positive"),
        ]

    def __str__(self) -> str:
        return f"revision {self.number} of intake {self.intake_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableRowError("Intake revisions are immutable: create a new revision instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableRowError("Intake revisions are never deleted.")


class InstrumentScore(models.Model):
    """One instrument's score for one revision, with the instrument version that produced it."""

    revision = models.ForeignKey(IntakeRevision, on_delete=models.PROTECT, related_name="scores")
    # Denormalised for trajectories: a patient's scores over time without joining revisions.
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="scores")
    completed_at = models.DateTimeField()
    instrument = models.CharField(max_length=30)
    instrument_version = models.CharField(max_length=20)
    total = models.DecimalField(max_digits=7, decimal_places=4, null=True)
    band = models.CharField(max_length=30, blank=True)
    scorable = models.BooleanField()
    prorated = models.BooleanField(default=False)
    result = models.JSONField(help_text="ScoreResult.as_dict(): subscales, flags, missing items.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["revision", "instrument"], name="score_one_per_instrument"),
        ]
        indexes = [
            models.Index(fields=["patient", "instrument", "completed_at"], name="score_trajectory"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.total} ({self.revision_id})"


class StratificationRecord(models.Model):
    """What one ruleset decided for one revision. Re-stratification adds records, never edits."""

    revision = models.ForeignKey(IntakeRevision, on_delete=models.PROTECT, related_name="stratifications")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    ruleset = models.CharField(max_length=30)
    medication_list_version = models.CharField(max_length=20)
    instrument_versions = models.JSONField(help_text="Instrument code → version that was scored.")
    back_care = models.CharField(max_length=50, blank=True)
    combined_care = models.BooleanField(default=False)
    pathway_on_hold = models.BooleanField(default=False)
    persistent = models.BooleanField(null=True)
    result = models.JSONField(help_text="Stratification.as_dict().")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["revision", "ruleset"], name="stratification_one_per_ruleset"),
        ]

    def __str__(self) -> str:
        return f"{self.ruleset} for {self.revision_id}"
