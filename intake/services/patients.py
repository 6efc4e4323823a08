"""Registering and maintaining patients.

Names and identifiers are stored in Unicode NFC (`intake.text.nfc`) whichever door they come in by
(API, FHIR, admin, seed data), so that an identifier is unique, and found, as one value however
its accents were encoded; `intake.selectors.patients` searches in the same form.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction

from intake.errors import IdentifierInUse
from intake.models import Clinic, Patient, PatientIdentifier
from intake.text import nfc

Identifier = tuple[str, str]

NAME_FIELDS = frozenset({"family_name", "given_name"})


def patient_create(
    *,
    clinic: Clinic,
    family_name: str,
    given_name: str,
    birth_date: datetime.date,
    gender: str = "unknown",
    identifiers: Sequence[Identifier] = (),
) -> Patient:
    """Create a patient with its identifiers; IdentifierInUse if one already names a patient."""
    identifiers = _normalised(identifiers)
    with transaction.atomic():
        _check_identifiers_free(clinic=clinic, identifiers=identifiers, patient=None)
        patient = Patient.objects.create(
            clinic=clinic,
            family_name=nfc(family_name),
            given_name=nfc(given_name),
            birth_date=birth_date,
            gender=gender,
        )
        _store_identifiers(patient=patient, identifiers=identifiers)
    return patient


def patient_update(
    *, patient: Patient, changes: dict[str, Any], identifiers: Sequence[Identifier] | None = None
) -> Patient:
    """Apply demographic changes; a given identifier list replaces the patient's identifiers."""
    allowed = {"family_name", "given_name", "birth_date", "gender"}
    unexpected = set(changes) - allowed
    if unexpected:
        raise ValueError(f"patient_update cannot change {sorted(unexpected)}")
    with transaction.atomic():
        for field, value in changes.items():
            setattr(patient, field, nfc(value) if field in NAME_FIELDS else value)
        patient.save()
        if identifiers is not None:
            identifiers = _normalised(identifiers)
            _check_identifiers_free(clinic=patient.clinic, identifiers=identifiers, patient=patient)
            patient.identifiers.all().delete()
            _store_identifiers(patient=patient, identifiers=identifiers)
    return patient


def patient_set_active(*, patient: Patient, is_active: bool) -> Patient:
    """Deactivate (or reactivate) a patient. Patients are never deleted."""
    if patient.is_active != is_active:
        patient.is_active = is_active
        patient.save(update_fields=["is_active", "updated_at"])
    return patient


def _normalised(identifiers: Sequence[Identifier]) -> list[Identifier]:
    return [(nfc(system), nfc(value)) for system, value in identifiers]


def _check_identifiers_free(
    *, clinic: Clinic, identifiers: Sequence[Identifier], patient: Patient | None
) -> None:
    for index, (system, value) in enumerate(identifiers):
        taken = PatientIdentifier.objects.filter(clinic=clinic, system=system, value=value)
        if patient is not None:
            taken = taken.exclude(patient=patient)
        if taken.exists():
            raise IdentifierInUse(
                f"Identifier {system}|{value} already names another patient in this clinic.",
                path=f"identifiers[{index}]",
            )


def _store_identifiers(*, patient: Patient, identifiers: Sequence[Identifier]) -> None:
    try:
        with transaction.atomic():
            PatientIdentifier.objects.bulk_create(
                PatientIdentifier(patient=patient, clinic_id=patient.clinic_id, system=s, value=v)
                for s, v in identifiers
            )
    except IntegrityError as exc:  # a concurrent request registered the same identifier
        raise IdentifierInUse(
            "An identifier was registered for another patient at the same moment.", path="identifiers"
        ) from exc
