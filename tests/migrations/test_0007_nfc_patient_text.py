"""Data migration 0007: stored names and identifiers rewritten to NFC; a conflict with the unique
constraint deletes a same-patient duplicate and leaves another patient's row, logged, in place."""

from __future__ import annotations

import importlib
import logging

import pytest
from django.apps import apps

from intake.models import Patient, PatientIdentifier
from tests.factories import ClinicFactory, PatientFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("intake.migrations.0007_nfc_patient_text")

NFC, NFD = "Jos\u00e9", "Jose\u0301"


def stored(patient, value, system="urn:mrn"):
    # Written past the services, as the admin and FHIR paths could before: no normalisation.
    return PatientIdentifier.objects.create(
        patient=patient, clinic_id=patient.clinic_id, system=system, value=value
    )


def test_decomposed_names_and_identifiers_become_nfc():
    # given a patient and an identifier stored decomposed
    patient = PatientFactory(family_name=f"Mu\u0308ller-{NFD}", given_name=NFD)
    row = stored(patient, f"MRN-{NFD}", system=f"urn:{NFD}")
    # when the migration runs
    migration.normalise_patient_text(apps, None)
    # then both are composed
    patient.refresh_from_db()
    row.refresh_from_db()
    assert (patient.family_name, patient.given_name) == (f"M\u00fcller-{NFC}", NFC)
    assert (row.system, row.value) == (f"urn:{NFC}", f"MRN-{NFC}")


def test_a_duplicate_of_the_same_patients_identifier_is_deleted():
    patient = PatientFactory()
    kept = stored(patient, NFC)
    stored(patient, NFD)
    migration.normalise_patient_text(apps, None)
    assert list(PatientIdentifier.objects.values_list("pk", "value")) == [(kept.pk, NFC)]


def test_another_patients_equivalent_identifier_is_left_and_logged(caplog):
    # given two patients of one clinic holding the NFC and the NFD form of one identifier
    clinic = ClinicFactory()
    first, second = PatientFactory(clinic=clinic), PatientFactory(clinic=clinic)
    stored(first, NFC)
    other = stored(second, NFD)
    # when the migration runs
    with caplog.at_level(logging.WARNING, logger="intake.migrations"):
        migration.normalise_patient_text(apps, None)
    # then it does not fail, changes neither row, and names both ids (no value: it is patient data)
    other.refresh_from_db()
    assert other.value == NFD and PatientIdentifier.objects.count() == 2
    assert str(other.pk) in caplog.text and str(second.pk) in caplog.text
    assert NFD not in caplog.text


def test_equivalent_identifiers_in_different_clinics_are_both_normalised():
    first, second = PatientFactory(), PatientFactory()
    stored(first, NFD)
    stored(second, NFD)
    migration.normalise_patient_text(apps, None)
    assert set(PatientIdentifier.objects.values_list("value", flat=True)) == {NFC}
    assert Patient.objects.count() == 2
