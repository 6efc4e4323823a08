"""Patient queries, scoped to a clinic."""

from __future__ import annotations

from django.db.models import QuerySet

from intake.models import Clinic, Patient
from intake.text import nfc


def patient_queryset(*, clinic: Clinic) -> QuerySet[Patient]:
    return Patient.objects.filter(clinic=clinic).prefetch_related("identifiers")


def patient_by_identifier(*, clinic: Clinic, system: str, value: str) -> Patient | None:
    """The patient holding this identifier (one query: the identifiers are not prefetched).
    Identifiers are stored in NFC (`intake.services.patients`), so the search is too."""
    return Patient.objects.filter(
        clinic=clinic, identifiers__system=nfc(system), identifiers__value=nfc(value)
    ).first()
