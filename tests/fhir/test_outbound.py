"""Scores, stratification and referral flags → FHIR R4 resources that validate (fhir.resources R4B)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.riskassessment import RiskAssessment
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from intake.fhir.outbound import (
    AssessmentFacts,
    FlagFacts,
    ScoreFacts,
    dumps,
    extract_bundle,
    referral_resources,
    risk_assessment,
    score_observation,
)
from intake.instruments import score
from intake.stratification import stratify
from tests.fhir.fixtures import BASE_URL, load

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
PATIENT = "6f1c2a9e-0000-4000-8000-000000000001"
QR = "6f1c2a9e-0000-4000-8000-0000000000aa"
MODELS = {
    "Observation": Observation,
    "RiskAssessment": RiskAssessment,
    "Flag": Flag,
    "ServiceRequest": ServiceRequest,
    "Task": Task,
}


def validate(resource: dict[str, Any]) -> None:
    MODELS[resource["resourceType"]].model_validate(resource)
    # And the JSON text we would send parses back to the same resource.
    MODELS[resource["resourceType"]].model_validate(json.loads(dumps(resource), parse_float=Decimal))


def facts(code: str, answers: dict[str, object], obs_id: str) -> ScoreFacts:
    return ScoreFacts(
        id=obs_id,
        patient_id=PATIENT,
        result=score(code, answers),
        effective_at=AT,
        questionnaire_response_id=QR,
    )


PHQ9 = facts("phq9", {f"q{n}": 2 for n in range(1, 10)}, "obs-phq9")  # 18, q9 = 2
GAD7 = facts("gad7", {f"q{n}": 1 for n in range(1, 8)}, "obs-gad7")  # 7
STARTBACK = facts("startback", {**{f"q{n}": 1 for n in range(1, 9)}, "q9": 4}, "obs-startback")  # high


# --- Observation ---------------------------------------------------------------------------------


def test_phq9_observation_uses_the_total_score_code_not_the_panel_code():
    observation = score_observation(PHQ9, base_url=BASE_URL)
    validate(observation)
    codes = [(coding["system"], coding["code"]) for coding in observation["code"]["coding"]]
    assert ("http://loinc.org", "44261-6") in codes
    assert ("http://loinc.org", "44249-1") not in codes
    assert (f"{BASE_URL}/CodeSystem/instrument", "phq9") in codes
    assert observation["valueQuantity"] == {
        "value": 18,
        "unit": "{score}",
        "system": "http://unitsofmeasure.org",
        "code": "{score}",
    }
    assert observation["category"][0]["coding"][0]["code"] == "survey"
    assert observation["status"] == "final"
    assert observation["subject"] == {"reference": f"Patient/{PATIENT}"}
    assert observation["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{QR}"}]
    assert observation["interpretation"][0]["coding"][0]["code"] == "moderately_severe"


def test_observation_has_the_shape_of_the_public_examples_but_fixes_the_mii_code():
    mii = load("mii-phq9-observation.json")
    Observation.model_validate(mii)
    assert mii["code"]["coding"][0]["code"] == "44249-1"  # the fixture's defect
    sdoh = load("sdohcc-observation-derived-from-qr.json")
    Observation.model_validate(sdoh)
    ours = score_observation(PHQ9, base_url=BASE_URL)
    assert {"status", "category", "code", "subject", "effectiveDateTime", "derivedFrom"} <= set(ours)
    assert ours["valueQuantity"]["code"] == mii["valueQuantity"]["code"] == "{score}"


def test_gad7_observation_code_is_70274_6():
    observation = score_observation(GAD7, base_url=BASE_URL)
    validate(observation)
    assert observation["code"]["coding"][0]["code"] == "70274-6"


def test_startback_observation_carries_band_loinc_and_psychosocial_component():
    observation = score_observation(STARTBACK, base_url=BASE_URL)
    validate(observation)
    band_codes = [coding["code"] for coding in observation["interpretation"][0]["coding"]]
    assert band_codes == ["high", "LA9193-9"]
    (component,) = observation["component"]
    assert component["code"]["coding"][0]["code"] == "91350-9"
    assert component["valueQuantity"]["value"] == 5


def test_decimal_total_is_an_exact_json_number():
    peg = facts("peg", {"p": 7, "e": 6, "g": 6}, "obs-peg")  # 19 / 3
    observation = score_observation(peg, base_url=BASE_URL)
    validate(observation)
    value = observation["valueQuantity"]["value"]
    assert isinstance(value, Decimal)
    text = dumps(observation)
    assert f'"value":{value}' in text
    assert json.loads(text, parse_float=Decimal)["valueQuantity"]["value"] == value


def test_unscorable_instrument_gets_data_absent_reason_instead_of_a_value():
    gad7 = facts("gad7", {"q1": 1}, "obs-gad7-partial")
    observation = score_observation(gad7, base_url=BASE_URL)
    validate(observation)
    assert "valueQuantity" not in observation
    assert observation["dataAbsentReason"]["coding"][0]["code"] == "unknown"
    assert "q2" in observation["dataAbsentReason"]["text"]


def test_instrument_without_a_total_uses_not_applicable_and_has_components():
    answers = {f"q{n}": 3 for n in range(1, 17)}
    observation = score_observation(facts("fabq", answers, "obs-fabq"), base_url=BASE_URL)
    validate(observation)
    assert observation["dataAbsentReason"]["coding"][0]["code"] == "not-applicable"
    assert [coding["system"] for coding in observation["code"]["coding"]] == [
        f"{BASE_URL}/CodeSystem/instrument"
    ]
    assert len(observation["component"]) == 2


def test_naive_datetime_is_refused():
    naive = ScoreFacts(id="x", patient_id=PATIENT, result=GAD7.result, effective_at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="time zone"):
        score_observation(naive, base_url=BASE_URL)


# --- RiskAssessment ------------------------------------------------------------------------------


def stratification_for(*scores: ScoreFacts, answers: dict[str, dict[str, Any]] | None = None):
    return stratify(
        scores={facts.result.instrument: facts.result for facts in scores},
        answers=answers or {"phq9": {f"q{n}": 2 for n in range(1, 10)}},
    )


def test_risk_assessment_names_ruleset_pathways_and_startback_risk():
    stratification = stratification_for(PHQ9, GAD7, STARTBACK)
    assessment = AssessmentFacts(id="ra-1", patient_id=PATIENT, stratification=stratification, assessed_at=AT)
    resource = risk_assessment(assessment, scores=[PHQ9, GAD7, STARTBACK], base_url=BASE_URL)
    validate(resource)
    assert resource["status"] == "final"
    assert resource["method"]["coding"] == [
        {"system": f"{BASE_URL}/CodeSystem/ruleset", "code": "lbp-2026.1"}
    ]
    assert resource["occurrenceDateTime"] == AT.isoformat()
    assert {"reference": "Observation/obs-phq9"} in resource["basis"]
    assert {"reference": f"QuestionnaireResponse/{QR}"} in resource["basis"]
    outcomes = [prediction["outcome"]["coding"][0]["code"] for prediction in resource["prediction"]]
    assert outcomes == ["psychologically_informed_physiotherapy", "psychological_therapy", "combined_care"]
    risk = resource["prediction"][0]["qualitativeRisk"]["coding"][0]
    assert risk == {
        "system": "http://terminology.hl7.org/CodeSystem/risk-probability",
        "code": "high",
        "display": "High risk",
    }
    assert any("phq9.total = 18" in note["text"] for note in resource["note"])


def test_medium_startback_risk_is_moderate():
    medium = facts(
        "startback", {"q1": 1, "q2": 1, "q3": 1, "q4": 1, "q5": 0, "q6": 0, "q7": 0, "q8": 0, "q9": 0}, "o"
    )
    assert medium.result.band == "medium"
    assessment = AssessmentFacts(
        id="ra-2", patient_id=PATIENT, stratification=stratification_for(medium, answers={}), assessed_at=AT
    )
    resource = risk_assessment(assessment, scores=[medium], base_url=BASE_URL)
    validate(resource)
    assert resource["prediction"][0]["qualitativeRisk"]["coding"][0]["code"] == "moderate"


def test_risk_assessment_has_the_structural_keys_of_the_r4_example():
    example = load("r4-riskassessment-example.json")
    RiskAssessment.model_validate(example)
    assessment = AssessmentFacts(
        id="ra-1", patient_id=PATIENT, stratification=stratification_for(PHQ9, STARTBACK), assessed_at=AT
    )
    ours = risk_assessment(assessment, scores=[PHQ9, STARTBACK], base_url=BASE_URL)
    assert {"status", "method", "subject", "occurrenceDateTime", "basis", "prediction"} <= set(example) & set(
        ours
    )


# --- Flag, ServiceRequest, Task ------------------------------------------------------------------


def flag(status: str = "open", priority: str = "urgent", **kwargs: Any) -> FlagFacts:
    return FlagFacts(
        id=kwargs.pop("id", "flag-1"),
        patient_id=PATIENT,
        kind=kwargs.pop("kind", "mental_health_safety"),
        priority=priority,
        status=status,
        raised_at=AT,
        due_at=AT + timedelta(hours=24),
        rules=("safety.phq9_item9",),
        **kwargs,
    )


def test_referral_flag_becomes_flag_service_request_and_task():
    resources = referral_resources([flag()], risk_assessment_id="ra-1", base_url=BASE_URL)
    assert [resource["resourceType"] for resource in resources] == ["Flag", "ServiceRequest", "Task"]
    for resource in resources:
        validate(resource)
    flag_resource, request, task = resources
    assert flag_resource["status"] == "active"
    assert flag_resource["category"][0]["coding"][0]["code"] == "safety"
    assert flag_resource["code"]["coding"][0] == {
        "system": f"{BASE_URL}/CodeSystem/referral-flag",
        "code": "mental_health_safety",
    }
    assert flag_resource["period"] == {"start": AT.isoformat()}
    assert request["status"] == "active" and request["intent"] == "order"
    assert request["reasonReference"] == [{"reference": "RiskAssessment/ra-1"}]
    assert request["authoredOn"] == AT.isoformat()
    assert task["focus"] == {"reference": "ServiceRequest/flag-1"}
    assert task["intent"] == "order"
    assert task["restriction"]["period"]["end"] == (AT + timedelta(hours=24)).isoformat()


@pytest.mark.parametrize(
    ("priority", "expected"), [("emergency", "stat"), ("urgent", "urgent"), ("routine", "routine")]
)
def test_priority_maps_to_request_priority(priority, expected):
    _, request, task = referral_resources([flag(priority=priority)], base_url=BASE_URL)
    assert request["priority"] == expected == task["priority"]


@pytest.mark.parametrize(
    ("status", "task_status", "request_status", "flag_status"),
    [
        ("open", "requested", "active", "active"),
        ("acknowledged", "accepted", "active", "active"),
        ("in_progress", "in-progress", "active", "active"),
        ("closed", "completed", "completed", "inactive"),
        ("dismissed", "cancelled", "revoked", "inactive"),
        ("superseded", "cancelled", "revoked", "inactive"),
    ],
)
def test_flag_status_maps_to_task_request_and_flag_status(status, task_status, request_status, flag_status):
    resources = referral_resources(
        [flag(status=status, closed_at=AT + timedelta(hours=2))], base_url=BASE_URL
    )
    for resource in resources:
        validate(resource)
    flag_resource, request, task = resources
    assert (task["status"], request["status"], flag_resource["status"]) == (
        task_status,
        request_status,
        flag_status,
    )
    assert ("end" in flag_resource["period"]) is (flag_status == "inactive")


def test_unknown_status_or_priority_is_refused():
    with pytest.raises(ValueError, match="status"):
        referral_resources([flag(status="lost")], base_url=BASE_URL)
    with pytest.raises(ValueError, match="priority"):
        referral_resources([flag(priority="asap")], base_url=BASE_URL)


def test_flag_facts_from_a_stratification_decision():
    stratification = stratification_for(PHQ9, STARTBACK)
    decision = next(item for item in stratification.flags if item.kind == "mental_health_safety")
    facts_ = FlagFacts.from_decision(decision, id="f", patient_id=PATIENT, status="open", raised_at=AT)
    assert facts_.priority == "emergency"  # q9 = 2
    _, request, _ = referral_resources([facts_], base_url=BASE_URL)
    assert request["priority"] == "stat"
    assert decision.rules[0] in request["note"][0]["text"]


def test_referral_resources_have_the_shape_of_the_public_examples():
    ours = referral_resources([flag()], risk_assessment_id="ra-1", base_url=BASE_URL)
    for name, resource in zip(
        ["r4-flag-example.json", "sdohcc-servicerequest-referral.json", "sdohcc-task-fulfillment.json"],
        ours,
        strict=True,
    ):
        example = load(name)
        MODELS[example["resourceType"]].model_validate(example)
        assert example["resourceType"] == resource["resourceType"]
        shared = {
            "status",
            "code",
            "subject",
            "intent",
            "focus",
            "reasonReference",
            "category",
            "period",
            "for",
        }
        assert shared & set(example) <= set(resource)


# --- Bundle ---------------------------------------------------------------------------------------


def test_extract_bundle_is_a_valid_collection_with_resolvable_full_urls():
    stratification = stratification_for(PHQ9, GAD7, STARTBACK)
    assessment = AssessmentFacts(id="ra-1", patient_id=PATIENT, stratification=stratification, assessed_at=AT)
    flags = [
        FlagFacts.from_decision(decision, id=f"flag-{index}", patient_id=PATIENT, status="open", raised_at=AT)
        for index, decision in enumerate(stratification.flags)
    ]
    resources = [
        *(score_observation(item, base_url=BASE_URL) for item in (PHQ9, GAD7, STARTBACK)),
        risk_assessment(assessment, scores=[PHQ9, GAD7, STARTBACK], base_url=BASE_URL),
        *referral_resources(flags, risk_assessment_id="ra-1", base_url=BASE_URL),
    ]
    bundle = extract_bundle(resources, base_url=BASE_URL + "/", bundle_id="b-1", timestamp=AT)
    Bundle.model_validate(bundle)
    Bundle.model_validate(json.loads(dumps(bundle), parse_float=Decimal))
    assert bundle["type"] == "collection"
    assert bundle["entry"][0]["fullUrl"] == f"{BASE_URL}/Observation/obs-phq9"
    full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
    assert f"{BASE_URL}/ServiceRequest/flag-0" in full_urls and f"{BASE_URL}/Task/flag-0" in full_urls
    assert len(full_urls) == len(resources) == 3 + 1 + 3 * len(flags)


def test_extract_bundle_refuses_duplicate_resources():
    observation = score_observation(PHQ9, base_url=BASE_URL)
    with pytest.raises(ValueError, match="duplicate"):
        extract_bundle([observation, observation], base_url=BASE_URL)
