"""The patient page: score history charts with bands and MCID marks, pathway, open flags; and
patient registration through the patient services."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from intake.models import Patient, PatientIdentifier, Role
from intake.selectors.charts import patient_score_charts
from tests.factories import IdentifierFactory, PatientFactory

from .conftest import submit

pytestmark = pytest.mark.django_db


def weeks_ago(weeks: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(weeks=weeks)


@pytest.fixture
def improving(clinic: Any) -> Patient:
    """NRS 8 → 7 → 3: the last change reaches the NRS MCID (2 points or 30%)."""
    patient = PatientFactory(clinic=clinic)
    submit(patient, form="lbp-followup", completed_at=weeks_ago(8), responses={"nrs": {"pain": 8}})
    submit(patient, form="lbp-followup", completed_at=weeks_ago(4), responses={"nrs": {"pain": 7}})
    submit(patient, completed_at=weeks_ago(0), responses={"nrs": {"pain": 3}, "phq9": {"q9": 1}})
    return patient


def test_chart_has_one_point_per_intake_band_regions_and_mcid_verdicts(improving: Patient) -> None:
    charts = {chart.code: chart for chart in patient_score_charts(patient=improving)}
    nrs = charts["nrs"]
    assert [p.total for p in nrs.points] == ["8", "7", "3"]
    assert [p.verdict for p in nrs.points] == [None, "no_reliable_change", "improved"]
    assert nrs.baseline_change == "-5"
    assert [(b.code, b.threshold) for b in nrs.bands] == [
        ("none", "0"),
        ("mild", "1–5"),
        ("moderate", "6–7"),
        ("severe", "8–10"),
    ]
    assert nrs.points[0].y < nrs.points[2].y  # higher score drawn higher up
    assert "red_flags" not in charts


def test_patient_page_draws_the_svg_charts_pathway_and_open_flags(
    staff_for: Any, clinic: Any, improving: Patient
) -> None:
    html = (
        staff_for(Role.CLINICIAN, clinic)
        .get(reverse("admin:intake_patient_change", args=[improving.pk]))
        .content.decode()
    )
    assert html.count("<svg") >= 5
    assert 'class="mcid-mark improved"' in html
    assert 'class="threshold"' in html
    assert "Latest pathway" in html and "Self-management" in html
    assert "Mental health safety" in html


def test_reception_sees_charts_but_not_flags(staff_for: Any, clinic: Any, improving: Patient) -> None:
    html = (
        staff_for(Role.RECEPTION, clinic)
        .get(reverse("admin:intake_patient_change", args=[improving.pk]))
        .content.decode()
    )
    assert "<svg" in html
    assert 'id="open-flags"' not in html
    assert "Transcribe lbp-initial" in html


def test_coordinator_page_is_read_only(staff_for: Any, clinic: Any, improving: Patient) -> None:
    client = staff_for(Role.COORDINATOR, clinic)
    url = reverse("admin:intake_patient_change", args=[improving.pk])
    assert 'name="family_name"' not in client.get(url).content.decode()
    assert client.post(url, {"family_name": "Changed"}).status_code == 403


def patient_post(clinic: Any, **changes: Any) -> dict[str, Any]:
    data = {
        "clinic": clinic.pk,
        "family_name": "Nwosu",
        "given_name": "Chi",
        "birth_date": "1980-02-03",
        "gender": "female",
        "is_active": "on",
        "identifiers-TOTAL_FORMS": "1",
        "identifiers-INITIAL_FORMS": "0",
        "identifiers-0-system": "urn:test:mrn",
        "identifiers-0-value": "MRN-55",
    }
    data.update(changes)
    return data


def test_reception_registers_a_patient_with_an_identifier(staff_for: Any, clinic: Any) -> None:
    client = staff_for(Role.RECEPTION, clinic)
    response = client.post(reverse("admin:intake_patient_add"), patient_post(clinic))
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    patient = Patient.objects.get(family_name="Nwosu")
    assert patient.clinic == clinic
    assert list(patient.identifiers.values_list("value", flat=True)) == ["MRN-55"]


def test_identifier_already_used_in_the_clinic_is_refused_on_the_field(staff_for: Any, clinic: Any) -> None:
    IdentifierFactory(patient=PatientFactory(clinic=clinic), value="MRN-55")
    client = staff_for(Role.RECEPTION, clinic)
    response = client.post(reverse("admin:intake_patient_add"), patient_post(clinic))
    assert response.status_code == 200
    assert "already names another patient" in response.content.decode()
    assert not Patient.objects.filter(family_name="Nwosu").exists()


def test_cannot_register_a_patient_in_another_clinic(staff_for: Any, clinic: Any, other_clinic: Any) -> None:
    client = staff_for(Role.RECEPTION, clinic)
    response = client.post(reverse("admin:intake_patient_add"), patient_post(other_clinic))
    assert response.status_code == 200 and "clinic" in response.context["adminform"].form.errors
    assert not PatientIdentifier.objects.filter(value="MRN-55").exists()


def test_patients_are_never_deleted(staff_for: Any, clinic: Any, improving: Patient) -> None:
    client = staff_for(Role.CLINICIAN, clinic)
    assert client.get(reverse("admin:intake_patient_delete", args=[improving.pk])).status_code == 403


def test_peg_change_since_first_comes_from_the_exact_means_not_the_rounded_ones(clinic: Any) -> None:
    # given PEG means 19/3 (shown 6.33) then 8/3 (shown 2.67): the exact change is -11/3 = -3.666…
    patient = PatientFactory(clinic=clinic)
    submit(
        patient, form="lbp-followup", completed_at=weeks_ago(6), responses={"peg": {"p": 7, "e": 6, "g": 6}}
    )
    submit(
        patient, form="lbp-followup", completed_at=weeks_ago(1), responses={"peg": {"p": 3, "e": 3, "g": 2}}
    )

    # when
    peg = {chart.code: chart for chart in patient_score_charts(patient=patient)}["peg"]

    # then: rounded half up from the exact value, as the API's trajectory says (6.33 - 2.67 would be -3.66)
    assert [p.total for p in peg.points] == ["6.33", "2.67"]
    assert peg.baseline_change == "-3.67"


def test_latest_pathway_is_not_hidden_by_a_later_lone_screen(staff_for: Any, clinic: Any) -> None:
    # given a full assessment (STarT Back low risk → self-management), then a lone PHQ-9 screen
    patient = PatientFactory(clinic=clinic)
    assessment = submit(patient, completed_at=weeks_ago(3))
    submit(patient, form="phq9", completed_at=weeks_ago(1), responses={"phq9": {"q1": 1}})

    # when
    html = (
        staff_for(Role.CLINICIAN, clinic)
        .get(reverse("admin:intake_patient_change", args=[patient.pk]))
        .content.decode()
    )

    # then the pathway shown is the assessment's, and says where it comes from
    pathway = html[html.index('id="latest-pathway"') : html.index('id="intakes"')]
    assert "Self-management" in pathway
    assert "Not decided" not in pathway
    assert str(assessment.intake.pk) in pathway


def test_intake_page_shows_work_status_in_words(staff_for: Any, clinic: Any) -> None:
    # given
    patient = PatientFactory(clinic=clinic)
    outcome = submit(patient, work_status="off_work_due_to_pain")

    # when
    html = (
        staff_for(Role.CLINICIAN, clinic)
        .get(reverse("admin:intake_intake_change", args=[outcome.intake.pk]))
        .content.decode()
    )

    # then
    assert "Off work due to pain" in html
    assert "offworkduetopain" not in html
