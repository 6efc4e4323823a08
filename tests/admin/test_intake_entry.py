"""Paper intake entry and corrections: the same service and engine as the API, errors on the fields."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from intake.instruments import get
from intake.models import Intake, IntakeSource, ReferralFlag, Role
from tests.builders import low_risk_responses

pytestmark = pytest.mark.django_db


def paper(**changes: Any) -> dict[str, Any]:
    """POST data of a fully transcribed low-risk lbp-initial form, with `changes` applied."""
    data: dict[str, Any] = {
        "completed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "pain_duration_weeks": "20",
        "work_status": "working_full_time",
        "medications": "",
        "no_medications": "on",
    }
    for code, answers in low_risk_responses().items():
        for item_id, value in answers.items():
            data[f"{code}__{item_id}"] = str(int(value))
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def entry_url(patient: Any, form: str = "lbp-initial") -> str:
    return reverse("admin:intake_intake_add") + f"?patient={patient.pk}&form={form}"


def test_entry_form_renders_every_item_with_its_option_labels(
    staff_for: Any, clinic: Any, patient: Any
) -> None:
    response = staff_for(Role.RECEPTION, clinic).get(entry_url(patient))
    html = response.content.decode()
    for code in ("nrs", "peg", "odi", "startback", "phq9", "gad7", "pcs", "isi", "red_flags"):
        for item in get(code).items:
            assert f'name="{code}__{item.id}"' in html
    assert "Nearly every day" in html  # PHQ-9 option label
    assert 'id="id_red_flags__saddle_anaesthesia_1"' in html  # yes/no
    assert "Pain duration (weeks)" in html and "Work status" in html and "Medications" in html


def test_saving_a_transcription_stores_it_as_an_admin_intake_and_shows_the_result(
    staff_for: Any, clinic: Any, patient: Any
) -> None:
    client = staff_for(Role.RECEPTION, clinic)
    response = client.post(entry_url(patient), paper(phq9__q9="2"), follow=True)
    intake = Intake.objects.get(patient=patient)
    revision = intake.current_revision
    assert revision.source == IntakeSource.ADMIN
    assert revision.created_by == f"user:{client.user.pk}"
    assert revision.responses["phq9"]["q9"] == 2
    assert revision.responses["red_flags"]["saddle_anaesthesia"] is False
    assert revision.medications == []
    assert response.redirect_chain[-1][0] == reverse("admin:intake_intake_change", args=[intake.pk])
    html = response.content.decode()
    assert "Intake saved" in html
    assert 'id="score-phq9"' in html and "suicidal ideation" in html
    assert "Self-management" in html
    assert "Mental health safety" in html
    flag = ReferralFlag.objects.get(intake=intake)
    assert (flag.kind, flag.priority) == ("mental_health_safety", "emergency")


def test_blank_items_are_left_to_the_scoring_rules(staff_for: Any, clinic: Any, patient: Any) -> None:
    client = staff_for(Role.RECEPTION, clinic)
    client.post(entry_url(patient), paper(phq9__q9="", **{f"isi__q{n}": "" for n in range(1, 8)}))
    revision = Intake.objects.get(patient=patient).current_revision
    assert "q9" not in revision.responses["phq9"]
    assert revision.responses["isi"] == {}
    assert ReferralFlag.objects.get(intake__patient=patient).kind == "mental_health_safety_unanswered"


def test_engine_refusal_of_an_answer_is_shown_on_that_item(staff_for: Any, clinic: Any, patient: Any) -> None:
    response = staff_for(Role.RECEPTION, clinic).post(entry_url(patient), paper(phq9__q9="7"))
    assert response.status_code == 200
    form = response.context["form"]
    assert "phq9__q9" in form.errors
    assert "not an allowed answer" in form.errors["phq9__q9"][0]
    assert not Intake.objects.exists()


@pytest.mark.parametrize("forged", ["\u0663", "\u00b2", "1_0", "+3"])
def test_an_answer_that_is_not_ascii_digits_is_refused_not_read_as_a_number(
    staff_for: Any, clinic: Any, patient: Any, forged: str
) -> None:
    # int() reads "٣" (Arabic-Indic three) as 3 and "1_0" as 10; isdigit() passes "²", which int() refuses.
    response = staff_for(Role.RECEPTION, clinic).post(entry_url(patient), paper(phq9__q9=forged))
    assert response.status_code == 200
    assert response.context["form"].errors["phq9__q9"] == ["Tick one of the options."]
    assert not Intake.objects.exists()


def test_missing_pain_duration_and_medications_are_errors_on_those_fields(
    staff_for: Any, clinic: Any, patient: Any
) -> None:
    response = staff_for(Role.RECEPTION, clinic).post(
        entry_url(patient), paper(pain_duration_weeks="", no_medications=None)
    )
    form = response.context["form"]
    assert set(form.errors) >= {"pain_duration_weeks", "medications"}
    assert "nothing was saved" in response.content.decode()
    assert not Intake.objects.exists()


def test_medications_listed_one_per_line_reach_the_medication_rules(
    staff_for: Any, clinic: Any, patient: Any
) -> None:
    client = staff_for(Role.RECEPTION, clinic)
    client.post(entry_url(patient), paper(medications="Tramadol\ndiazepam\n", no_medications=None))
    intake = Intake.objects.get(patient=patient)
    assert intake.current_revision.medications == ["Tramadol", "diazepam"]
    assert ReferralFlag.objects.filter(intake=intake, kind="medication_review").exists()


def test_future_completion_time_is_refused(staff_for: Any, clinic: Any, patient: Any) -> None:
    later = (timezone.localtime() + timezone.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = staff_for(Role.RECEPTION, clinic).post(entry_url(patient), paper(completed_at=later))
    assert "completed_at" in response.context["form"].errors


def test_form_not_enabled_for_the_clinic_is_not_offered(staff_for: Any, clinic: Any, patient: Any) -> None:
    clinic.enabled_forms = ["lbp-initial"]
    clinic.save()
    client = staff_for(Role.RECEPTION, clinic)
    assert client.get(entry_url(patient, "lbp-followup")).status_code == 404


def test_start_page_sends_to_the_entry_form(staff_for: Any, clinic: Any, patient: Any) -> None:
    client = staff_for(Role.RECEPTION, clinic)
    response = client.get(reverse("admin:intake_intake_add") + f"?patient={patient.pk}&form=lbp-followup")
    assert response.status_code == 200 and "Transcribe" in response.context["title"]
    start = client.get(reverse("admin:intake_intake_add"))
    assert start.status_code == 200 and "start" in start.context


def test_correction_is_prefilled_requires_a_reason_and_adds_a_revision(
    staff_for: Any, clinic: Any, patient: Any
) -> None:
    reception = staff_for(Role.RECEPTION, clinic)
    reception.post(entry_url(patient), paper())
    intake = Intake.objects.get(patient=patient)
    clinician = staff_for(Role.CLINICIAN, clinic)
    url = reverse("admin:intake_intake_correct", args=[intake.pk])

    form = clinician.get(url).context["form"]
    assert form.initial["phq9__q1"] == 0 and form.initial["pain_duration_weeks"] == 20

    no_reason = clinician.post(url, paper(phq9__q9="1"))
    assert "reason" in no_reason.context["form"].errors
    assert intake.revisions.count() == 1

    clinician.post(url, paper(phq9__q9="1", reason="Item 9 was ticked on paper"))
    intake.refresh_from_db()
    assert intake.revisions.count() == 2
    current = intake.current_revision
    assert (current.number, current.reason, current.source) == (2, "Item 9 was ticked on paper", "admin")
    assert intake.revisions.get(number=1).responses["phq9"]["q9"] == 0  # the original is kept
    assert ReferralFlag.objects.filter(intake=intake, kind="mental_health_safety").exists()


def test_result_page_shows_an_earlier_revision_on_request(staff_for: Any, clinic: Any, patient: Any) -> None:
    clinician = staff_for(Role.CLINICIAN, clinic)
    clinician.post(entry_url(patient), paper())
    intake = Intake.objects.get(patient=patient)
    clinician.post(
        reverse("admin:intake_intake_correct", args=[intake.pk]), paper(nrs__pain="9", reason="typo")
    )
    page = clinician.get(reverse("admin:intake_intake_change", args=[intake.pk]) + "?revision=1")
    assert page.context["revision"].number == 1 and not page.context["is_current"]
    assert "Correct this intake" not in page.content.decode()
