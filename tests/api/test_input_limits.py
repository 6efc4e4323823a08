"""Every list and map of a request body has a limit (intake.limits): one over it is a 400 naming the
field, refused before any element is stored, on API v1 and on /fhir/ (as an OperationOutcome)."""

from __future__ import annotations

import json
import time

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from intake.fhir.questionnaire import questionnaire_for
from intake.instruments import get
from intake.limits import (
    MAX_ANSWERS_PER_INSTRUMENT,
    MAX_FHIR_ARRAY_ITEMS,
    MAX_FHIR_ITEMS,
    MAX_FHIR_NESTING,
    MAX_IDENTIFIERS,
    MAX_INSTRUMENTS_PER_INTAKE,
    MAX_MEDICATIONS,
)
from intake.models import Intake, Patient, PatientIdentifier
from intake.services.delivery import EVENT_TYPES
from tests.builders import initial_intake
from tests.factories import IdentifierFactory, PatientFactory

pytestmark = pytest.mark.django_db

FHIR = "application/fhir+json"
MRN = {"system": "urn:test:mrn", "value": "MRN-1"}
NEW = {"family_name": "Okafor", "given_name": "Ada", "birth_date": "1971-03-14", "gender": "female"}


def identifiers(count: int) -> list[dict[str, str]]:
    return [{"system": "urn:test:mrn", "value": f"MRN-{n}"} for n in range(count)]


def error_paths(response) -> list[str]:
    return [error["path"] for error in response.json()["errors"]]


@pytest.fixture
def patient(clinic):
    patient = PatientFactory(clinic=clinic)
    IdentifierFactory(patient=patient, **MRN)
    return patient


# --- patients ------------------------------------------------------------------------------------


def test_patient_with_identifiers_at_the_limit_is_registered(api):
    response = api.post("/api/v1/patients/", {**NEW, "identifiers": identifiers(MAX_IDENTIFIERS)})
    assert response.status_code == 201, response.json()
    assert PatientIdentifier.objects.count() == MAX_IDENTIFIERS


def test_thirty_thousand_identifiers_are_refused_at_once_and_nothing_is_stored(api):
    # given the reproducer: 30,000 identifiers in one body (accepted with 201 after 28 s before)
    body = json.dumps({**NEW, "identifiers": [{"system": "u", "value": str(n)} for n in range(30_000)]})
    started = time.monotonic()
    # when it is sent (under the body size limit)
    assert len(body) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = api.post("/api/v1/patients/", body, content_type="application/json")
    # then it is a 400 naming the list, answered without reading the elements
    assert response.status_code == 400
    assert error_paths(response) == ["identifiers"]
    assert response.json()["errors"][0]["code"] == "max_length"
    assert time.monotonic() - started < 5
    assert not Patient.objects.exists() and not PatientIdentifier.objects.exists()


def test_put_with_too_many_identifiers_keeps_the_old_ones(api, patient):
    body = {**NEW, "identifiers": identifiers(MAX_IDENTIFIERS + 1)}
    response = api.put(f"/api/v1/patients/{patient.id}/", body)
    assert response.status_code == 400
    assert error_paths(response) == ["identifiers"]
    assert [i.value for i in patient.identifiers.all()] == ["MRN-1"]


# --- intakes -------------------------------------------------------------------------------------


def submit(api, body):
    return api.post("/api/v1/intakes/", body, format="json")


def test_medications_over_the_limit_are_refused(api, patient):
    body = initial_intake({"identifier": MRN}, medications=[f"med {n}" for n in range(MAX_MEDICATIONS + 1)])
    response = submit(api, body)
    assert response.status_code == 400
    assert error_paths(response) == ["medications"]
    assert not Intake.objects.exists()


def test_medications_at_the_limit_are_accepted(api, patient):
    body = initial_intake({"identifier": MRN}, medications=[f"med {n}" for n in range(MAX_MEDICATIONS)])
    assert submit(api, body).status_code == 201


def test_responses_with_too_many_instruments_are_refused(api, patient):
    body = initial_intake({"identifier": MRN})
    body["responses"].update({f"x{n}": {} for n in range(MAX_INSTRUMENTS_PER_INTAKE)})
    response = submit(api, body)
    assert response.status_code == 400
    assert error_paths(response) == ["responses"]


def test_an_instrument_with_too_many_answers_is_refused(api, patient):
    body = initial_intake({"identifier": MRN})
    body["responses"]["phq9"] = {f"q{n}": 0 for n in range(MAX_ANSWERS_PER_INSTRUMENT + 1)}
    response = submit(api, body)
    assert response.status_code == 400
    assert error_paths(response) == ["responses.phq9"]


def test_an_answer_that_is_a_list_is_refused_not_echoed(api, patient):
    body = initial_intake({"identifier": MRN})
    body["responses"]["phq9"]["q1"] = list(range(30_000))
    response = submit(api, body)
    assert response.status_code == 400
    assert error_paths(response) == ["responses.phq9.q1"]
    assert len(response.content) < 2_000


def test_revision_medications_over_the_limit_are_refused(api, patient):
    created = submit(api, initial_intake({"identifier": MRN})).json()
    body = initial_intake({"identifier": MRN}, medications=["x"] * (MAX_MEDICATIONS + 1))
    del body["patient"]
    response = api.post(f"/api/v1/intakes/{created['id']}/revisions/", {**body, "reason": "typo"})
    assert response.status_code == 400
    assert error_paths(response) == ["medications"]


# --- webhooks ------------------------------------------------------------------------------------


def test_webhook_event_types_over_the_limit_are_refused(api, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.0/8"]
    settings.WEBHOOK_ALLOW_HTTP = True
    body = {"url": "http://127.0.0.1:9/hook", "event_types": [EVENT_TYPES[0]] * (len(EVENT_TYPES) + 1)}
    response = api.post("/api/v1/webhooks/", body, format="json")
    assert response.status_code == 400
    assert error_paths(response) == ["event_types"]


# --- every list, by property --------------------------------------------------------------------

# (body builder for n elements, the path named) — one per list or map of the API's request bodies.
LISTS = {
    "identifiers": (MAX_IDENTIFIERS, lambda n: ("/api/v1/patients/", {**NEW, "identifiers": identifiers(n)})),
    "medications": (
        MAX_MEDICATIONS,
        lambda n: ("/api/v1/intakes/", initial_intake({"identifier": MRN}, medications=["m"] * n)),
    ),
    "responses": (
        MAX_INSTRUMENTS_PER_INTAKE,
        lambda n: (
            "/api/v1/intakes/",
            initial_intake({"identifier": MRN}, responses={f"i{k}": {} for k in range(n)}),
        ),
    ),
    "responses.nrs": (
        MAX_ANSWERS_PER_INSTRUMENT,
        lambda n: (
            "/api/v1/intakes/",
            initial_intake({"identifier": MRN}, responses={"nrs": {f"a{k}": 0 for k in range(n)}}),
        ),
    ),
}


@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(field=st.sampled_from(sorted(LISTS)), excess=st.integers(min_value=1, max_value=500))
def test_any_list_longer_than_its_limit_is_a_400_naming_it(api, patient, field, excess):
    limit, build = LISTS[field]
    path, body = build(limit + excess)
    response = api.post(path, body, format="json")
    assert response.status_code == 400
    assert field in error_paths(response)
    assert not Intake.objects.exists()


# --- FHIR ----------------------------------------------------------------------------------------


def our_phq9(patient, items):
    questionnaire = questionnaire_for(get("phq9"), base_url=settings.FHIR_CANONICAL_BASE)
    return {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": f"{questionnaire['url']}|{questionnaire['version']}",
        "subject": {"reference": f"Patient/{patient.id}"},
        "authored": "2026-11-20T10:00:00Z",
        "item": items,
    }


def phq9_items(value=0):
    return [{"linkId": f"q{n}", "answer": [{"valueInteger": value}]} for n in range(1, 10)]


def post_fhir(api, resource):
    return api.post("/fhir/QuestionnaireResponse", json.dumps(resource), content_type=FHIR)


def assert_outcome_400(response, expression):
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == FHIR
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert expression in [e for issue in outcome["issue"] for e in issue.get("expression", [])]


def test_fhir_response_within_limits_is_stored(api, patient):
    assert post_fhir(api, our_phq9(patient, phq9_items())).status_code == 201


def test_fhir_too_many_items_at_all_depths_are_refused(api, patient):
    # given groups each within the array limit but more items than allowed in all
    group = {"linkId": "g", "item": [{"linkId": "x", "text": "t"}] * 100}
    resource = our_phq9(patient, [*phq9_items(), *[group] * (MAX_FHIR_ITEMS // 100)])
    response = post_fhir(api, resource)
    assert_outcome_400(response, "QuestionnaireResponse")
    assert not Intake.objects.exists()


def test_fhir_too_many_answers_are_refused(api, patient):
    items = phq9_items()
    items[0]["answer"] = [{"valueInteger": 0}] * (MAX_FHIR_ARRAY_ITEMS + 1)
    assert_outcome_400(post_fhir(api, our_phq9(patient, items)), "QuestionnaireResponse.item[0].answer")


def test_fhir_items_nested_too_deep_are_refused(api, patient):
    nested: dict = {"linkId": "deep", "text": "t"}
    for _ in range(MAX_FHIR_NESTING):
        nested = {"linkId": "g", "item": [nested]}
    response = post_fhir(api, our_phq9(patient, [*phq9_items(), nested]))
    assert response.status_code == 400
    assert "nested" in response.json()["issue"][0]["diagnostics"]


def test_fhir_bundle_with_too_many_entries_is_refused(api, patient):
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": our_phq9(patient, phq9_items())}] * (MAX_FHIR_ARRAY_ITEMS + 1),
    }
    assert_outcome_400(post_fhir(api, bundle), "Bundle.entry")


@hypothesis_settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    where=st.sampled_from(["item", "answer", "coding", "extension"]),
    excess=st.integers(min_value=1, max_value=300),
)
def test_any_fhir_array_longer_than_the_limit_is_a_400_naming_it(api, patient, where, excess):
    items = phq9_items()
    count = MAX_FHIR_ARRAY_ITEMS + excess
    if where == "item":
        items += [{"linkId": "d", "text": "t"}] * count
        expression = "QuestionnaireResponse.item"
    elif where == "answer":
        items[2]["answer"] = [{"valueInteger": 1}] * count
        expression = "QuestionnaireResponse.item[2].answer"
    elif where == "coding":
        items[2]["answer"] = [{"valueCoding": [{"code": "LA6568-5"}] * count}]
        expression = "QuestionnaireResponse.item[2].answer[0].valueCoding"
    else:
        items[2]["extension"] = [{"url": "urn:x", "valueString": "y"}] * count
        expression = "QuestionnaireResponse.item[2].extension"
    assert_outcome_400(post_fhir(api, our_phq9(patient, items)), expression)
    assert not Intake.objects.exists()
