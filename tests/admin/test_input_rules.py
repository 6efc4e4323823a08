"""The admin applies the API's input rules: names and identifiers stored in NFC, control and
format characters refused on the field, at most MAX_IDENTIFIERS identifiers and MAX_MEDICATIONS
medications, and the change list's search matches the decomposed form of a stored value."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from intake.limits import MAX_IDENTIFIERS, MAX_MEDICATIONS
from intake.models import Intake, Patient, PatientIdentifier, Role
from tests.admin.test_intake_entry import entry_url, paper

pytestmark = pytest.mark.django_db

NFC_NAME, NFD_NAME = "M\u00fcller", "Mu\u0308ller"
NFC_MRN, NFD_MRN = "MRN-Jos\u00e9", "MRN-Jose\u0301"


def add_form(clinic: Any, identifiers: list[tuple[str, str]], **changes: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "clinic": clinic.pk,
        "family_name": NFD_NAME,
        "given_name": "Ada",
        "birth_date": "1971-03-14",
        "gender": "female",
        "is_active": "on",
        "identifiers-TOTAL_FORMS": str(len(identifiers)),
        "identifiers-INITIAL_FORMS": "0",
        "identifiers-MIN_NUM_FORMS": "0",
        "identifiers-MAX_NUM_FORMS": "1000",
        **changes,
    }
    for index, (system, value) in enumerate(identifiers):
        data[f"identifiers-{index}-system"] = system
        data[f"identifiers-{index}-value"] = value
    return data


def test_admin_stores_names_and_identifiers_in_nfc(staff_for: Any, clinic: Any) -> None:
    client = staff_for(Role.RECEPTION, clinic)
    response = client.post(reverse("admin:intake_patient_add"), add_form(clinic, [("urn:mrn", NFD_MRN)]))
    assert response.status_code == 302, response.context["adminform"].form.errors
    patient = Patient.objects.get()
    assert patient.family_name == NFC_NAME
    assert PatientIdentifier.objects.get().value == NFC_MRN


@pytest.mark.parametrize(
    ("field", "value"),
    [("given_name", "Ada\u200b"), ("family_name", "\u202eOkafor"), ("identifiers-0-value", "M\u2028R")],
)
def test_admin_refuses_format_and_separator_characters(
    staff_for: Any, clinic: Any, field: str, value: str
) -> None:
    client = staff_for(Role.RECEPTION, clinic)
    data = add_form(clinic, [("urn:mrn", "MRN-1")])
    data[field] = value
    response = client.post(reverse("admin:intake_patient_add"), data)
    assert response.status_code == 200  # the form again, with the error on the field
    assert b"are not allowed: U+" in response.content
    assert not Patient.objects.exists()


def test_admin_refuses_more_identifiers_than_the_limit(staff_for: Any, clinic: Any) -> None:
    client = staff_for(Role.RECEPTION, clinic)
    identifiers = [("urn:mrn", f"MRN-{n}") for n in range(MAX_IDENTIFIERS + 1)]
    response = client.post(reverse("admin:intake_patient_add"), add_form(clinic, identifiers))
    assert response.status_code == 200
    assert not Patient.objects.exists()


def test_admin_search_by_decomposed_identifier_finds_the_patient(staff_for: Any, clinic: Any) -> None:
    client = staff_for(Role.RECEPTION, clinic)
    client.post(reverse("admin:intake_patient_add"), add_form(clinic, [("urn:mrn", NFC_MRN)]))
    response = client.get(reverse("admin:intake_patient_changelist"), {"q": NFD_MRN})
    assert list(response.context["cl"].result_list) == [Patient.objects.get()]


def test_paper_intake_with_more_medications_than_the_limit_is_refused_on_that_field(
    staff_for: Any, clinic: Any, patient: Any
) -> None:
    lines = "\n".join(f"medicine {n}" for n in range(MAX_MEDICATIONS + 1))
    response = staff_for(Role.RECEPTION, clinic).post(
        entry_url(patient), paper(medications=lines, no_medications=None)
    )
    assert "medications" in response.context["form"].errors
    assert not Intake.objects.exists()
