"""POST /api/v1/intakes/: every pathway and urgent flag of ruleset lbp-2026.1 end to end."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from intake.models import InstrumentScore, Intake, IntakeRevision, OutboxEvent, Patient, ReferralFlag
from tests.builders import STARTBACK_HIGH, STARTBACK_MEDIUM, followup_intake, initial_intake, numbered
from tests.factories import ClinicFactory, IdentifierFactory, PatientFactory

pytestmark = pytest.mark.django_db

MRN = {"system": "urn:test:mrn", "value": "MRN-1"}


@pytest.fixture
def patient(clinic):
    patient = PatientFactory(clinic=clinic)
    IdentifierFactory(patient=patient, **MRN)
    return patient


def submit(api, body, **headers):
    return api.post("/api/v1/intakes/", body, format="json", **headers)


def flags_of(body) -> dict[str, str]:
    return {flag["kind"]: flag["priority"] for flag in body["flags"]}


# --- pathways -------------------------------------------------------------------------------


def test_low_risk_intake_is_self_management_with_no_flags(api, patient):
    response = submit(api, initial_intake({"identifier": MRN}))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["stratification"]["back_care"] == "self_management"
    assert body["stratification"]["psychological_therapy"]["recommended"] is False
    assert body["stratification"]["combined_care"] is False
    assert body["flags"] == []
    assert body["scores"]["startback"]["band"] == "low"
    assert set(body["scores"]) == {
        "nrs",
        "peg",
        "odi",
        "startback",
        "phq9",
        "gad7",
        "pcs",
        "isi",
        "red_flags",
    }


def test_startback_medium_is_physiotherapy_with_a_routine_flag(api, patient):
    body = submit(api, initial_intake({"identifier": MRN}, responses={"startback": STARTBACK_MEDIUM})).json()
    assert body["scores"]["startback"]["band"] == "medium"
    assert body["stratification"]["back_care"] == "physiotherapy"
    assert body["stratification"]["combined_care"] is False
    assert flags_of(body) == {"physiotherapy": "routine"}


def test_startback_high_is_psychologically_informed_physiotherapy_and_combined_care(api, patient):
    body = submit(api, initial_intake({"identifier": MRN}, responses={"startback": STARTBACK_HIGH})).json()
    assert body["scores"]["startback"]["band"] == "high"
    assert body["stratification"]["back_care"] == "psychologically_informed_physiotherapy"
    assert body["stratification"]["combined_care"] is True
    assert flags_of(body) == {"psychologically_informed_physiotherapy": "routine", "combined_care": "routine"}


def test_medium_risk_with_depression_score_10_is_combined_care(api, patient):
    phq9 = numbered("q", [2, 2, 2, 2, 1, 1, 0, 0, 0])  # total 10: the PHQ-9 >= 10 rule
    body = submit(
        api, initial_intake({"identifier": MRN}, responses={"startback": STARTBACK_MEDIUM, "phq9": phq9})
    ).json()
    assert body["scores"]["phq9"]["total"] == 10
    assert body["stratification"]["psychological_therapy"] == {
        "recommended": True,
        "rules": ["psych.phq9_ge_10"],
    }
    assert body["stratification"]["combined_care"] is True
    assert flags_of(body) == {
        "physiotherapy": "routine",
        "psychological_therapy": "routine",
        "combined_care": "routine",
    }


def test_psychological_need_never_changes_the_startback_group(api, patient):
    pcs = numbered("q", [3] * 10 + [0] * 3)  # total 30: PCS >= 30
    body = submit(api, initial_intake({"identifier": MRN}, responses={"pcs": pcs})).json()
    assert body["stratification"]["back_care"] == "self_management"
    assert body["stratification"]["psychological_therapy"]["rules"] == ["psych.pcs_ge_30"]
    assert body["stratification"]["combined_care"] is False
    assert flags_of(body) == {"psychological_therapy": "routine"}


# --- urgent flags -----------------------------------------------------------------------------


def test_saddle_anaesthesia_raises_emergency_cauda_equina_and_holds_the_pathway(api, patient):
    before = datetime.now().astimezone()
    body = submit(
        api, initial_intake({"identifier": MRN}, responses={"red_flags": {"saddle_anaesthesia": True}})
    ).json()
    assert flags_of(body)["suspected_cauda_equina"] == "emergency"
    assert body["stratification"]["pathway_on_hold"] is True
    flag = ReferralFlag.objects.get(kind="suspected_cauda_equina")
    # Clinic default SLA for emergency flags: 1 hour (docs/clinical-reference.md §23).
    assert before + timedelta(minutes=59) < flag.due_at <= datetime.now().astimezone() + timedelta(minutes=60)


def test_fever_raises_urgent_medical_review_due_within_24_hours(api, patient):
    body = submit(api, initial_intake({"identifier": MRN}, responses={"red_flags": {"fever": True}})).json()
    assert flags_of(body) == {"urgent_medical_review": "urgent"}
    assert body["stratification"]["pathway_on_hold"] is False
    flag = ReferralFlag.objects.get()
    assert timedelta(hours=23, minutes=59) < flag.due_at - flag.created_at <= timedelta(hours=24)


def test_phq9_item9_positive_raises_safety_flag_regardless_of_total(api, patient):
    phq9 = numbered("q", [0, 0, 0, 0, 0, 0, 0, 0, 1])  # total 1
    body = submit(api, initial_intake({"identifier": MRN}, responses={"phq9": phq9})).json()
    assert body["scores"]["phq9"]["total"] == 1
    assert "suicidal_ideation" in body["scores"]["phq9"]["flags"]
    assert flags_of(body) == {"mental_health_safety": "urgent"}


def test_phq9_item9_of_two_is_an_emergency(api, patient):
    body = submit(api, initial_intake({"identifier": MRN}, responses={"phq9": {"q9": 2}})).json()
    assert flags_of(body) == {"mental_health_safety": "emergency"}


def test_phq9_item9_unanswered_raises_its_own_flag_and_is_never_read_as_zero(api, patient):
    body_in = initial_intake({"identifier": MRN})
    del body_in["responses"]["phq9"]["q9"]
    body = submit(api, body_in).json()
    assert body["scores"]["phq9"]["prorated"] is True
    assert "q9" in body["scores"]["phq9"]["missing"]
    assert flags_of(body) == {"mental_health_safety_unanswered": "urgent"}


def test_opioid_with_muscle_relaxant_raises_medication_review(api, patient):
    body = submit(api, initial_intake({"identifier": MRN}, medications=["tapentadol", "carisoprodol"])).json()
    assert flags_of(body) == {"medication_review": "urgent"}
    meds = body["stratification"]["medications"]
    assert meds["classified"] == {"tapentadol": ["opioid"], "carisoprodol": ["muscle_relaxant"]}
    rules = ReferralFlag.objects.get().reasons["rules"]
    assert rules == ["medication.opioid_plus_other_cns_depressant"]


def test_opioid_with_benzodiazepine_raises_medication_review_and_naloxone(api, patient):
    body = submit(
        api, initial_intake({"identifier": MRN}, medications=["tramadol", "diazepam", "mystery pill"])
    ).json()
    assert flags_of(body) == {"medication_review": "urgent"}
    reasons = {reason["rule"] for reason in body["stratification"]["reasons"]}
    assert {"medication.opioid_plus_benzodiazepine", "medication.consider_naloxone"} <= reasons
    assert body["stratification"]["medications"]["unknown"] == ["mystery pill"]


def test_urgent_flags_are_raised_when_other_instruments_are_unscorable(api, patient):
    body_in = initial_intake({"identifier": MRN})
    body_in["responses"]["startback"] = {}  # declined: present but unanswered
    body_in["responses"]["red_flags"] = {"bladder_dysfunction": True}  # a partial screen
    body = submit(api, body_in).json()
    assert body["scores"]["red_flags"]["scorable"] is False
    assert body["scores"]["startback"]["scorable"] is False
    assert body["stratification"]["back_care"] is None
    assert flags_of(body) == {"suspected_cauda_equina": "emergency"}


def test_every_write_of_one_intake_lands_together(api, patient):
    submit(api, initial_intake({"identifier": MRN}, responses={"red_flags": {"fever": True}}))
    intake = Intake.objects.get()
    assert intake.current_revision.number == 1
    assert InstrumentScore.objects.filter(revision=intake.current_revision).count() == 9
    assert ReferralFlag.objects.filter(intake=intake).count() == 1
    events = list(OutboxEvent.objects.values_list("event_type", flat=True))
    assert events == ["intake.scored", "flag.created"]


def test_scores_record_the_versions_that_produced_them(api, patient):
    body = submit(api, initial_intake({"identifier": MRN})).json()
    assert body["stratification"]["ruleset"] == "lbp-2026.1"
    assert all(score["version"] for score in body["scores"].values())
    record = Intake.objects.get().current_revision.stratifications.get()
    assert record.instrument_versions == {code: s["version"] for code, s in body["scores"].items()}


def test_followup_form_scores_its_own_battery(api, patient):
    response = submit(api, followup_intake({"id": str(patient.id)}))
    assert response.status_code == 201, response.json()
    assert set(response.json()["scores"]) == {"nrs", "peg", "odi", "phq9", "gad7"}


def test_get_intake_returns_what_post_returned(api, patient):
    created = submit(
        api, initial_intake({"identifier": MRN}, responses={"red_flags": {"fever": True}})
    ).json()
    fetched = api.get(f"/api/v1/intakes/{created['id']}/").json()
    assert fetched == created


def test_list_intakes_filters_by_patient(api, clinic, patient):
    other = PatientFactory(clinic=clinic)
    submit(api, initial_intake({"identifier": MRN}))
    submit(api, followup_intake({"id": str(other.id)}))
    listed = api.get("/api/v1/intakes/", {"patient": str(patient.id)}).json()["results"]
    assert [item["patient"] for item in listed] == [str(patient.id)]


def test_list_intakes_filters_by_completion_time_in_any_offset(api, patient):
    body = initial_intake({"identifier": MRN})
    body["completed_at"] = "2026-03-01T12:00:00Z"
    submit(api, body)

    def listed(**params):
        response = api.get("/api/v1/intakes/", params)
        assert response.status_code == 200, response.content
        return len(response.json()["results"])

    # 12:00 UTC is 05:02 at -06:58 and 23:58 at +11:58; PostgreSQL itself refuses offsets
    # beyond ±15:59, which Python accepts: the filter normalises to UTC first.
    assert listed(completed_after="2026-03-01T05:02:00-06:58") == 1
    assert listed(completed_after="2026-03-01T05:03:00-06:58") == 0
    assert listed(completed_before="2026-03-02T05:58:00+17:58") == 0
    assert listed(completed_before="2026-03-02T05:59:00+17:58") == 1


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+17:58", "yesterday"])
def test_list_intakes_refuses_a_time_filter_it_cannot_read_naming_it(api, value):
    response = api.get("/api/v1/intakes/", {"completed_after": value})
    assert response.status_code == 400
    assert "completed_after" in response.content.decode()


# --- patients named in the body -------------------------------------------------------------------


def test_unknown_identifier_is_422_naming_it(api):
    response = submit(api, initial_intake({"identifier": {"system": "urn:x", "value": "nobody"}}))
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "patient.identifier"
    assert not Intake.objects.exists()


def test_unknown_identifier_with_demographics_registers_the_patient(api, clinic):
    ref = {
        "identifier": {"system": "urn:x", "value": "new-1"},
        "family_name": "Nwosu",
        "given_name": "Ife",
        "birth_date": "1960-02-02",
    }
    response = submit(api, initial_intake(ref))
    assert response.status_code == 201
    patient = Patient.objects.get(clinic=clinic)
    assert patient.family_name == "Nwosu"
    assert response.json()["patient"] == str(patient.id)


def test_patient_of_another_clinic_is_as_unknown_as_a_missing_one(api):
    foreign = PatientFactory(clinic=ClinicFactory())
    response = submit(api, initial_intake({"id": str(foreign.id)}))
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "patient.id"


def test_patient_needs_exactly_one_of_id_or_identifier(api, patient):
    response = submit(api, initial_intake({"id": str(patient.id), "identifier": MRN}))
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "patient"


def test_deactivated_patient_cannot_get_a_new_intake(api, patient):
    patient.is_active = False
    patient.save()
    assert submit(api, initial_intake({"identifier": MRN})).status_code == 422


# --- bad input never half-writes ---------------------------------------------------------------


def test_out_of_range_answer_is_400_naming_the_item_and_writes_nothing(api, patient):
    response = submit(api, initial_intake({"identifier": MRN}, responses={"phq9": {"q9": 4}}))
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["path"] == "responses.phq9.q9"
    assert error["pointer"] == "/responses/phq9/q9"
    assert "0, 1, 2, 3" in error["detail"]
    assert not Intake.objects.exists() and not IntakeRevision.objects.exists()
    assert not OutboxEvent.objects.exists()


def test_every_invalid_answer_is_listed(api, patient):
    body = initial_intake({"identifier": MRN}, responses={"gad7": {"q8": 1}, "odi": {"s1": 6}, "isi": None})
    errors = submit(api, body).json()["errors"]
    assert {e["path"] for e in errors} == {"responses.gad7.q8", "responses.odi.s1", "responses.isi"}


def test_instrument_outside_the_form_is_refused(api, patient):
    body = initial_intake({"identifier": MRN})
    body["responses"]["tsk17"] = {"q1": 1}
    errors = submit(api, body).json()["errors"]
    assert errors[0]["path"] == "responses.tsk17"
    assert errors[0]["code"] == "not_in_form"


@pytest.mark.parametrize("value", [True, 1.0, "2", None, [1]])
def test_wrongly_typed_answers_are_refused(api, patient, value):
    response = submit(api, initial_intake({"identifier": MRN}, responses={"gad7": {"q1": value}}))
    if value is None:  # an explicit null is an unanswered item: GAD-7 needs all 7 → not scorable, still 201
        assert response.status_code == 201
        assert response.json()["scores"]["gad7"]["scorable"] is False
    else:
        assert response.status_code == 400
        assert response.json()["errors"][0]["path"] == "responses.gad7.q1"


def test_initial_form_requires_pain_duration_and_medications(api, patient):
    body = initial_intake({"identifier": MRN})
    del body["pain_duration_weeks"], body["medications"]
    paths = {e["path"] for e in submit(api, body).json()["errors"]}
    assert paths == {"pain_duration_weeks", "medications"}


def test_future_completion_time_is_refused(api, patient):
    response = submit(api, initial_intake({"identifier": MRN}, completed_at="2999-01-01T00:00:00Z"))
    assert response.json()["errors"][0]["path"] == "completed_at"


def test_form_not_enabled_for_the_clinic_is_422(api, clinic, patient):
    clinic.enabled_forms = ["lbp-followup"]
    clinic.save()
    response = submit(api, initial_intake({"identifier": MRN}))
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "form"


def test_intakes_need_the_intakes_write_scope(api_for, clinic, patient):
    reader = api_for(clinic, ["intakes:read", "patients:write"])
    assert submit(reader, initial_intake({"identifier": MRN})).status_code == 403


def test_another_clinics_intake_is_404(api, api_for, patient):
    created = submit(api, initial_intake({"identifier": MRN})).json()
    stranger = api_for(ClinicFactory())
    assert stranger.get(f"/api/v1/intakes/{created['id']}/").status_code == 404
    assert stranger.get(f"/api/v1/intakes/{created['id']}/revisions/").status_code == 404
    assert stranger.post(f"/api/v1/intakes/{created['id']}/revisions/", {}, format="json").status_code == 404
    assert stranger.get("/api/v1/intakes/").json()["results"] == []
