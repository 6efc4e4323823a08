"""Patient queries, scoped to a clinic."""

from __future__ import annotations

from django.db.models import QuerySet

from intake.models import Clinic, Patient


def patient_queryset(*, clinic: Clinic) -> QuerySet[Patient]:
    return Patient.objects.filter(clinic=clinic).prefetch_related("identifiers")


def patient_by_identifier(*, clinic: Clinic, system: str, value: str) -> Patient | None:
    """The patient holding this identifier (one query: the identifiers are not prefetched)."""
    return Patient.objects.filter(clinic=clinic, identifiers__system=system, identifiers__value=value).first()
