"""FHIR endpoints over HTTP, fed with the real public payloads in tests/fixtures/fhir."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.riskassessment import RiskAssessment

from intake.fhir.questionnaire import questionnaire_for
from intake.instruments import get
from intake.models import Intake, IntakeSource
from tests.factories import ClinicFactory, IdentifierFactory, PatientFactory
from tests.fhir.fixtures import load

pytestmark = pytest.mark.django_db

FHIR = "application/fhir+json"


@pytest.fixture
def patient(clinic):
    patient = PatientFactory(clinic=clinic)
    IdentifierFactory(patient=patient, system="urn:test:mrn", value="FHIR-1")
    return patient


def post(api, path, resource, **headers):
    return api.post(path, json.dumps(resource), content_type=FHIR, **headers)


def resources(bundle, kind):
    return [entry["resource"] for entry in bundle["entry"] if entry["resource"]["resourceType"] == kind]


def sdc_bundle(patient, response="sdc-phq9-questionnaireresponse.json"):
    qr = load(response)
    qr["subject"] = {"reference": f"Patient/{patient.id}"}
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": load("sdc-phq9-questionnaire.json")}, {"resource": qr}],
    }


def test_questionnaire_is_served_as_fhir_json(api):
    response = api.get("/fhir/Questionnaire/phq9")
    assert response.status_code == 200
    assert response["Content-Type"] == FHIR
    questionnaire = Questionnaire.model_validate(response.json())
    assert questionnaire.url == f"{settings.FHIR_CANONICAL_BASE}/Questionnaire/phq9"


def test_unknown_questionnaire_is_404_operation_outcome(api):
    response = api.get("/fhir/Questionnaire/nope")
    assert response.status_code == 404
    assert response["Content-Type"] == FHIR
    outcome = OperationOutcome.model_validate(response.json())
    assert outcome.issue[0].code == "not-found"


def test_fhir_without_token_is_401_operation_outcome():
    from rest_framework.test import APIClient

    response = APIClient().get("/fhir/Questionnaire/phq9")
    assert response.status_code == 401
    assert response.json()["resourceType"] == "OperationOutcome"


def test_sdc_phq9_scores_10_not_its_stated_13_and_raises_the_item9_flag(api, patient):
    response = post(api, "/fhir/QuestionnaireResponse", sdc_bundle(patient))
    assert response.status_code == 201, response.json()
    bundle = response.json()
    Bundle.model_validate(bundle)
    outcome = resources(bundle, "OperationOutcome")[0]
    warnings = [i["diagnostics"] for i in outcome["issue"] if i["severity"] == "warning"]
    assert any("13" in w and "10" in w for w in warnings)
    observation = resources(bundle, "Observation")[0]
    assert observation["valueQuantity"]["value"] == 10
    assert observation["valueQuantity"]["code"] == "{score}"
    assert {"system": "http://loinc.org", "code": "44261-6"}.items() <= observation["code"]["coding"][
        0
    ].items()
    # Item 9 = 1 → urgent safety review; total 10 → psychological therapy referral (routine).
    requests = {r["code"]["coding"][0]["code"]: r["priority"] for r in resources(bundle, "ServiceRequest")}
    assert requests == {"mental_health_safety": "urgent", "psychological_therapy": "routine"}
    intake = Intake.objects.get()
    assert intake.current_revision.source == IntakeSource.FHIR
    assert intake.current_revision.source_document["resourceType"] == "QuestionnaireResponse"
    assert response["Location"] == f"/fhir/QuestionnaireResponse/{intake.pk}"


def test_sdc_response_without_its_questionnaire_is_422_naming_the_items(api, patient):
    qr = load("sdc-phq9-questionnaireresponse.json")
    qr["subject"] = {"reference": f"Patient/{patient.id}"}
    response = post(api, "/fhir/QuestionnaireResponse", qr)
    assert response.status_code == 422
    outcome = response.json()
    OperationOutcome.model_validate(outcome)
    assert any("H1/T1/Q1" in issue["diagnostics"] for issue in outcome["issue"])
    assert not Intake.objects.exists()


def test_mii_phq9_with_mismatched_link_ids_is_refused_not_guessed(api, patient):
    qr = load("mii-phq9-questionnaireresponse.json")
    qr["subject"] = {"reference": f"Patient/{patient.id}"}
    response = post(api, "/fhir/QuestionnaireResponse", qr)
    assert response.status_code == 422
    assert any("PHQ.1" in issue["diagnostics"] for issue in response.json()["issue"])


def test_spezi_flat_response_scores_27_with_an_emergency_safety_flag(api, patient):
    response = post(
        api, "/fhir/QuestionnaireResponse", sdc_bundle(patient, "spezi-phq9-questionnaireresponse-flat.json")
    )
    assert response.status_code == 201, response.json()
    bundle = response.json()
    assert resources(bundle, "Observation")[0]["valueQuantity"]["value"] == 27
    requests = {r["code"]["coding"][0]["code"]: r["priority"] for r in resources(bundle, "ServiceRequest")}
    assert requests == {"mental_health_safety": "stat", "psychological_therapy": "routine"}


def test_mii_gad7_transaction_bundle_scores_13_without_a_mismatch_warning(api, patient):
    bundle_in = load("mii-gad7-transaction-bundle.json")
    for entry in bundle_in["entry"]:
        if entry["resource"]["resourceType"] == "QuestionnaireResponse":
            entry["resource"]["subject"] = {"identifier": {"system": "urn:test:mrn", "value": "FHIR-1"}}
    response = post(api, "/fhir/QuestionnaireResponse", bundle_in)
    assert response.status_code == 201, response.json()
    bundle = response.json()
    assert resources(bundle, "Observation")[0]["valueQuantity"]["value"] == 13
    issues = resources(bundle, "OperationOutcome")[0]["issue"]
    assert not any("states a total" in issue["diagnostics"] for issue in issues)


def test_our_own_questionnaire_round_trips(api, patient):
    questionnaire = questionnaire_for(get("gad7"), base_url=settings.FHIR_CANONICAL_BASE)
    qr = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": f"{questionnaire['url']}|{questionnaire['version']}",
        "subject": {"reference": f"Patient/{patient.id}"},
        "authored": "2026-11-20T10:00:00Z",
        "item": [{"linkId": f"q{i}", "answer": [{"valueInteger": 2}]} for i in range(1, 8)],
    }
    bundle = post(api, "/fhir/QuestionnaireResponse", qr).json()
    observation = resources(bundle, "Observation")[0]
    assert observation["valueQuantity"]["value"] == 14
    # GAD-7 >= 10 → psychological therapy referral; nothing urgent.
    requests = {r["code"]["coding"][0]["code"]: r["priority"] for r in resources(bundle, "ServiceRequest")}
    assert requests == {"psychological_therapy": "routine"}


def test_unresolvable_subject_is_422(api, patient):
    qr = load("sdc-phq9-questionnaireresponse.json")  # subject http://hl7.org/fhir/Patient/proband
    bundle = sdc_bundle(patient)
    bundle["entry"][1]["resource"]["subject"] = qr["subject"]
    response = post(api, "/fhir/QuestionnaireResponse", bundle)
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["QuestionnaireResponse.subject"]


def test_extract_returns_resources_and_stores_nothing(api, patient):
    response = post(api, "/fhir/QuestionnaireResponse/$extract", sdc_bundle(patient))
    assert response.status_code == 200, response.json()
    bundle = response.json()
    Bundle.model_validate(bundle)
    assert len(resources(bundle, "Observation")) == 1
    assert len(resources(bundle, "RiskAssessment")) == 1
    assert {f["code"]["coding"][0]["code"] for f in resources(bundle, "Flag")} == {
        "mental_health_safety",
        "psychological_therapy",
    }
    assert not Intake.objects.exists()


def test_stored_resources_can_be_read_back(api, patient):
    bundle = post(api, "/fhir/QuestionnaireResponse", sdc_bundle(patient)).json()
    intake = Intake.objects.get()
    qr = api.get(f"/fhir/QuestionnaireResponse/{intake.pk}").json()
    assert qr["id"] == str(intake.pk)
    assessment_id = resources(bundle, "RiskAssessment")[0]["id"]
    assessment = api.get(f"/fhir/RiskAssessment/{assessment_id}").json()
    RiskAssessment.model_validate(assessment)
    assert assessment == resources(bundle, "RiskAssessment")[0]
    search = api.get("/fhir/Observation", {"subject": f"Patient/{patient.id}", "code": "44261-6"}).json()
    Bundle.model_validate(search)
    assert search["total"] == 1
    assert (
        api.get("/fhir/Observation", {"subject": f"Patient/{patient.id}", "code": "70274-6"}).json()["total"]
        == 0
    )


def test_other_clinics_cannot_read_fhir_resources(api, api_for, patient):
    bundle = post(api, "/fhir/QuestionnaireResponse", sdc_bundle(patient)).json()
    intake = Intake.objects.get()
    stranger = api_for(ClinicFactory())
    assessment_id = resources(bundle, "RiskAssessment")[0]["id"]
    assert stranger.get(f"/fhir/RiskAssessment/{assessment_id}").status_code == 404
    assert stranger.get(f"/fhir/QuestionnaireResponse/{intake.pk}").status_code == 404
    assert stranger.get("/fhir/Observation", {"subject": f"Patient/{patient.id}"}).status_code == 400


def test_fhir_create_is_idempotent(api, patient):
    first = post(api, "/fhir/QuestionnaireResponse", sdc_bundle(patient), HTTP_IDEMPOTENCY_KEY="fhir-1")
    again = post(api, "/fhir/QuestionnaireResponse", sdc_bundle(patient), HTTP_IDEMPOTENCY_KEY="fhir-1")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Intake.objects.count() == 1


def test_unroutable_fhir_address_is_an_operation_outcome(api):
    response = api.get("/fhir/RiskAssessment/not-a-number")
    assert response.status_code == 404
    assert response["Content-Type"] == FHIR
    assert response.json()["issue"][0]["code"] == "not-found"
