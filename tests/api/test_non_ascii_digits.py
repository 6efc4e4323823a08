"""Digits that are not ASCII in user text: "²".isdigit() is True yet int("²") raises, and int("٣")
is 3. Neither may crash a request (500) or be read as a number (a silent guess)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from intake.api.problems import flatten_errors
from intake.fhir.questionnaire import questionnaire_for
from intake.instruments import get
from intake.models import Intake, Patient, ReferralFlag
from intake.selectors.fhir_resources import fhir_base_url
from intake.services.webhook_signature import new_secret, sign, verify_webhook
from tests.builders import initial_intake
from tests.factories import IdentifierFactory, PatientFactory
from tests.fhir.test_inbound import lhc_response

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
FHIR = "application/fhir+json"
MRN = {"system": "urn:digits", "value": "D-1"}


def _rows() -> tuple[int, ...]:
    return (Patient.objects.count(), Intake.objects.count(), ReferralFlag.objects.count())


def problem(response, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    return response.json()


def outcome(response, status: int) -> list[dict[str, Any]]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == FHIR
    document = response.json()
    assert document["resourceType"] == "OperationOutcome"
    return document["issue"]


@pytest.fixture
def world(api, clinic):
    """A patient with an MRN and an intake with an open flag."""
    patient = PatientFactory(clinic=clinic)
    IdentifierFactory(patient=patient, **MRN)
    created = api.post(
        "/api/v1/intakes/", initial_intake({"identifier": MRN}, responses={"phq9": {"q9": 1}}), format="json"
    )
    assert created.status_code == 201, created.content
    return {"patient": patient, "flag": ReferralFlag.objects.get(intake_id=created.json()["id"])}


@pytest.mark.parametrize("url", ["/api/v1/patients/", "/api/v1/intakes/"])
@pytest.mark.parametrize("key", ["\u00b2", "\u0663", "\u00bd", "0", "12"])
def test_unknown_field_named_with_any_digits_is_400_naming_that_key(api, world, url, key):
    before = _rows()
    document = problem(api.post(url, {key: 1}, format="json"))
    unknown = [e for e in document["errors"] if e["detail"] == "Unknown field."]
    assert [(e["path"], e["pointer"]) for e in unknown] == [(key, f"/{key}")]
    assert _rows() == before


def test_error_keyed_by_text_digits_is_a_key_and_by_int_an_index():
    located = list(flatten_errors({"responses": {"\u00b2": ["bad"], "0": ["bad"]}, "items": {3: ["bad"]}}))
    assert [(e["path"], e["pointer"]) for e in located] == [
        ("responses.\u00b2", "/responses/\u00b2"),
        ("responses.0", "/responses/0"),
        ("items[3]", "/items/3"),
    ]


@pytest.mark.parametrize("code", ["\u00b2", "\u0663"])
def test_fhir_answer_code_in_non_ascii_digits_is_422_not_a_crash_or_a_guess(api, world, code):
    questionnaire = questionnaire_for(get("nrs"), base_url=fhir_base_url())
    document = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": f"{questionnaire['url']}|{questionnaire['version']}",
        "subject": {"reference": f"Patient/{world['patient'].pk}"},
        "item": [{"linkId": "pain", "answer": [{"valueCoding": {"code": code}}]}],
    }
    response = api.post("/fhir/QuestionnaireResponse/$extract", json.dumps(document), content_type=FHIR)
    (issue,) = outcome(response, 422)
    assert issue["code"] == "code-invalid" and f"#{code} is not an answer of nrs.pain" in issue["diagnostics"]


def test_fhir_stated_total_beyond_fifteen_digits_is_not_read(api, world):
    document = lhc_response({n: 1 for n in range(1, 10)})
    document["subject"] = {"reference": f"Patient/{world['patient'].pk}"}
    document["item"].append({"linkId": "/44261-6", "answer": [{"valueQuantity": {"value": "1e5000"}}]})
    response = api.post("/fhir/QuestionnaireResponse/$extract", json.dumps(document), content_type=FHIR)
    assert response.status_code == 200, response.content
    notes = [issue["diagnostics"] for issue in response.json()["entry"][0]["resource"]["issue"]]
    assert any("stated total could not be read" in note for note in notes)


@pytest.mark.parametrize("etag", ['"\u00b2"', '"\u0663"', 'W/"\u00b2"'])
def test_if_match_in_non_ascii_digits_is_412(api, world, etag):
    url = f"/api/v1/flags/{world['flag'].pk}/acknowledge/"
    response = api.post(url, {}, format="json", HTTP_IF_MATCH=etag)
    problem(response, 412)
    assert ReferralFlag.objects.get(pk=world["flag"].pk).status == "open"


@pytest.mark.parametrize("length", ["\u00b2", "\u0663", "1_0", "+1"])
def test_content_length_that_is_not_ascii_digits_is_400(api, length):
    response = api.generic(
        "POST", "/api/v1/patients/", b"{}", content_type="application/json", CONTENT_LENGTH=length
    )
    assert problem(response)["detail"] == "Content-Length is not a number."


def test_webhook_timestamp_in_non_ascii_digits_is_unverified_not_a_crash():
    secret = new_secret()
    headers = {
        "webhook-id": "evt-1",
        "webhook-timestamp": "\u00b2",
        "webhook-signature": sign(secret=secret, msg_id="evt-1", timestamp=2, body=b"{}"),
    }
    assert verify_webhook(secret, headers, b"{}") is False
