"""Patients and their identifiers (an EHR's MRN is one), scoped to a clinic."""

from __future__ import annotations

import uuid

from django.db import models

from .clinic import Clinic


class AdministrativeGender(models.TextChoices):
    """FHIR R4 AdministrativeGender (http://hl7.org/fhir/administrative-gender)."""

    MALE = "male", "Male"
    FEMALE = "female", "Female"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class Patient(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    family_name = models.CharField(max_length=100)
    given_name = models.CharField(max_length=100)
    birth_date = models.DateField()
    gender = models.CharField(
        max_length=10, choices=AdministrativeGender.choices, default=AdministrativeGender.UNKNOWN
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["clinic", "family_name", "given_name"], name="patient_clinic_name"),
            models.Index(fields=["clinic", "birth_date"], name="patient_clinic_birth"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(gender__in=AdministrativeGender.values), name="patient_gender_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name} ({self.birth_date})"


class PatientIdentifier(models.Model):
    """A (system, value) pair naming a patient, unique within the clinic."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="identifiers")
    # Denormalised from the patient so uniqueness per clinic is a database constraint.
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    system = models.CharField(max_length=255)
    value = models.CharField(max_length=255)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "system", "value"], name="identifier_unique_in_clinic"),
        ]
        indexes = [models.Index(fields=["clinic", "value"], name="identifier_clinic_value")]

    def __str__(self) -> str:
        return f"{self.system}|{self.value}"
