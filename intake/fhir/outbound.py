"""Scores, stratification and referral flags → FHIR R4 resources (Observation, RiskAssessment, Flag,
ServiceRequest, Task) and a Bundle. Pure Python (no Django): callers pass plain facts and ids.

Resource ids are the caller's (database UUIDs). Within one export a referral flag's Flag,
ServiceRequest and Task may share one id: FHIR ids are unique per resource type.

Exact numbers: Decimal totals (ODI, PEG) stay `Decimal` in the returned dicts. `dumps` renders them
as JSON numbers digit for digit; `json.dumps` would refuse them and DRF's encoder would turn them
into floats.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from intake.instruments import ScoreResult, get
from intake.instruments.definition import LOINC
from intake.stratification import FlagDecision, Stratification, get_ruleset

__all__ = [
    "FLAG_STATUS_TO_TASK_STATUS",
    "PRIORITY_TO_REQUEST_PRIORITY",
    "AssessmentFacts",
    "FlagFacts",
    "ScoreFacts",
    "dumps",
    "extract_bundle",
    "referral_resources",
    "risk_assessment",
    "score_observation",
]

UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
RISK_PROBABILITY = "http://terminology.hl7.org/CodeSystem/risk-probability"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"
SNOMED = "http://snomed.info/sct"

# Our referral-flag priorities (docs/clinical-reference.md §23) → FHIR request-priority.
PRIORITY_TO_REQUEST_PRIORITY = {"emergency": "stat", "urgent": "urgent", "routine": "routine"}

# Our flag workflow (intake.models.flags.FlagStatus) → FHIR task-status.
FLAG_STATUS_TO_TASK_STATUS = {
    "open": "requested",
    "acknowledged": "accepted",
    "in_progress": "in-progress",
    "closed": "completed",
    "dismissed": "cancelled",
    "superseded": "cancelled",
}
ACTIVE_FLAG_STATUSES = frozenset({"open", "acknowledged", "in_progress"})
# A closed referral was done; a dismissed or superseded one was withdrawn (request-status).
_REQUEST_STATUS = {"closed": "completed", "dismissed": "revoked", "superseded": "revoked"}

# STarT Back band → risk-probability (the FHIR code for "medium" is "moderate").
STARTBACK_RISK = {"low": "low", "medium": "moderate", "high": "high"}

# Flag kinds of ruleset lbp-2026.1 → flag-category; anything else is "clinical".
_FLAG_CATEGORY = {
    "mental_health_safety": ("safety", "Safety"),
    "mental_health_safety_unanswered": ("safety", "Safety"),
    "medication_review": ("drug", "Drug"),
}


@dataclass(frozen=True)
class ScoreFacts:
    """One stored score: becomes one Observation with id `id`."""

    id: str
    patient_id: str
    result: ScoreResult
    effective_at: datetime
    questionnaire_response_id: str | None = None


@dataclass(frozen=True)
class AssessmentFacts:
    """One stratification of an intake: becomes one RiskAssessment with id `id`."""

    id: str
    patient_id: str
    stratification: Stratification
    assessed_at: datetime


@dataclass(frozen=True)
class FlagFacts:
    """One stored referral flag: becomes a Flag, a ServiceRequest and a Task.

    `status` is our flag workflow status (open, acknowledged, in_progress, closed, dismissed,
    superseded); `priority` is emergency, urgent or routine; `rules` are the ruleset rule ids that
    raised it. `service_request_id`/`task_id` default to `id`.
    """

    id: str
    patient_id: str
    kind: str
    priority: str
    status: str
    raised_at: datetime
    due_at: datetime | None = None
    closed_at: datetime | None = None
    rules: tuple[str, ...] = ()
    service_request_id: str | None = None
    task_id: str | None = None

    @classmethod
    def from_decision(
        cls,
        decision: FlagDecision,
        *,
        id: str,
        patient_id: str,
        status: str,
        raised_at: datetime,
        due_at: datetime | None = None,
        closed_at: datetime | None = None,
    ) -> FlagFacts:
        return cls(
            id=id,
            patient_id=patient_id,
            kind=decision.kind,
            priority=decision.priority,
            status=status,
            raised_at=raised_at,
            due_at=due_at,
            closed_at=closed_at,
            rules=decision.rules,
        )


# --- Observation ---------------------------------------------------------------------------------


def score_observation(score: ScoreFacts, *, base_url: str) -> dict[str, Any]:
    """A `survey` Observation of one instrument's total (LOINC total code where one exists, plus our
    instrument code), with band, subscales and `derivedFrom` → the QuestionnaireResponse."""
    base_url = base_url.rstrip("/")
    result = score.result
    definition = get(result.instrument)
    coding = []
    if definition.loinc.total:
        coding.append({"system": LOINC, "code": definition.loinc.total})
    coding.append(
        {"system": f"{base_url}/CodeSystem/instrument", "code": definition.code, "display": definition.title}
    )
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": score.id,
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}],
        "code": {"coding": coding, "text": f"{definition.title} total score"},
        "subject": _patient(score.patient_id),
        "effectiveDateTime": _datetime(score.effective_at),
    }
    if result.total is not None:
        observation["valueQuantity"] = _score_quantity(result.total)
    elif not result.scorable:
        observation["dataAbsentReason"] = _absent(
            "unknown", f"Not scorable: items missing ({', '.join(result.missing)})."
        )
    else:  # scorable but without a total by design (FABQ)
        observation["dataAbsentReason"] = _absent("not-applicable", f"{definition.title} has no total score.")
    if result.band is not None:
        observation["interpretation"] = [_band(definition.code, result.band, base_url)]
    components = [
        _subscale_component(definition.code, name, value, base_url)
        for name, value in result.subscales.items()
    ]
    if components:
        observation["component"] = components
    notes = [f"Scored by {definition.code} version {result.version}."]
    if result.prorated:
        notes.append(f"Prorated for missing items: {', '.join(result.missing)}.")
    if result.flags:
        notes.append(f"Instrument flags: {', '.join(result.flags)}.")
    observation["note"] = [{"text": " ".join(notes)}]
    if score.questionnaire_response_id is not None:
        observation["derivedFrom"] = [
            {"reference": f"QuestionnaireResponse/{score.questionnaire_response_id}"}
        ]
    return observation


def _score_quantity(value: int | Decimal) -> dict[str, Any]:
    return {"value": value, "unit": "{score}", "system": UCUM, "code": "{score}"}


def _absent(code: str, text: str) -> dict[str, Any]:
    return {"coding": [{"system": DATA_ABSENT_REASON, "code": code}], "text": text}


def _band(instrument: str, band: str, base_url: str) -> dict[str, Any]:
    coding = [{"system": f"{base_url}/CodeSystem/{instrument}-band", "code": band}]
    for definition_band in get(instrument).bands:
        if definition_band.code == band and definition_band.loinc:
            coding.append({"system": LOINC, "code": definition_band.loinc})
    return {"coding": coding, "text": band.replace("_", " ")}


def _subscale_component(
    instrument: str, name: str, value: int | Decimal | None, base_url: str
) -> dict[str, Any]:
    coding = []
    for subscale in get(instrument).subscales:
        if subscale.name == name and subscale.loinc:
            coding.append({"system": LOINC, "code": subscale.loinc})
    coding.append({"system": f"{base_url}/CodeSystem/subscale", "code": f"{instrument}.{name}"})
    component: dict[str, Any] = {"code": {"coding": coding, "text": name.replace("_", " ")}}
    if value is None:
        component["dataAbsentReason"] = _absent("unknown", "Subscale items missing.")
    else:
        component["valueQuantity"] = _score_quantity(value)
    return component


# --- RiskAssessment ------------------------------------------------------------------------------


def risk_assessment(
    assessment: AssessmentFacts, *, scores: Sequence[ScoreFacts] = (), base_url: str
) -> dict[str, Any]:
    """A RiskAssessment of the care pathway under the ruleset (`method`), based on the score
    Observations and their QuestionnaireResponses, with the STarT Back band as qualitativeRisk."""
    base_url = base_url.rstrip("/")
    stratification = assessment.stratification
    ruleset = get_ruleset(stratification.ruleset)
    descriptions = {rule.id: rule.description for rule in ruleset.rules}
    pathway = f"{base_url}/CodeSystem/pathway"

    basis = [{"reference": f"Observation/{score.id}"} for score in scores]
    responses = dict.fromkeys(
        score.questionnaire_response_id for score in scores if score.questionnaire_response_id
    )
    basis += [{"reference": f"QuestionnaireResponse/{response_id}"} for response_id in responses]

    def rationale(topic_rules: Iterable[str]) -> str:
        return " ".join(descriptions.get(rule, rule) for rule in topic_rules)

    predictions: list[dict[str, Any]] = []
    if stratification.back_care is not None:
        back_care_rules = [reason.rule for reason in stratification.reasons if reason.topic == "back_care"]
        prediction: dict[str, Any] = {
            "outcome": _pathway(pathway, stratification.back_care),
            "rationale": rationale(back_care_rules),
        }
        band = next((score.result.band for score in scores if score.result.instrument == "startback"), None)
        if band in STARTBACK_RISK:
            risk = STARTBACK_RISK[band]
            prediction["qualitativeRisk"] = {
                "coding": [
                    {"system": RISK_PROBABILITY, "code": risk, "display": f"{risk.capitalize()} risk"}
                ],
                "text": f"STarT Back {band} risk",
            }
        predictions.append(prediction)
    if stratification.psychological_therapy_rules:
        predictions.append(
            {
                "outcome": _pathway(pathway, "psychological_therapy"),
                "rationale": rationale(stratification.psychological_therapy_rules),
            }
        )
    if stratification.combined_care:
        combined_rules = [reason.rule for reason in stratification.reasons if reason.topic == "combined_care"]
        predictions.append(
            {"outcome": _pathway(pathway, "combined_care"), "rationale": rationale(combined_rules)}
        )

    resource: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "id": assessment.id,
        "status": "final",
        "method": {
            "coding": [{"system": f"{base_url}/CodeSystem/ruleset", "code": stratification.ruleset}],
            "text": f"Stratification ruleset {stratification.ruleset}",
        },
        "subject": _patient(assessment.patient_id),
        "occurrenceDateTime": _datetime(assessment.assessed_at),
    }
    if basis:
        resource["basis"] = basis
    if predictions:
        resource["prediction"] = predictions
    notes = [
        {"text": _reason_text(reason.rule, descriptions, reason.evidence)}
        for reason in stratification.reasons
    ]
    if stratification.pathway_on_hold:
        notes.insert(0, {"text": "Routine pathway on hold until medical review."})
    if notes:
        resource["note"] = notes
    return resource


def _pathway(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}], "text": code.replace("_", " ")}


def _reason_text(rule: str, descriptions: dict[str, str], evidence: Iterable[Any]) -> str:
    found = "; ".join(
        f"{item.instrument}.{item.item} = {_plain(item.value)} ({item.threshold})" for item in evidence
    )
    return f"{rule}: {descriptions.get(rule, '')} Evidence: {found}."


def _plain(value: object) -> str:
    return format(value, "f") if isinstance(value, Decimal) else str(value)


# --- Flag, ServiceRequest, Task ------------------------------------------------------------------


def referral_resources(
    flags: Iterable[FlagFacts], *, risk_assessment_id: str | None = None, base_url: str
) -> list[dict[str, Any]]:
    """For each referral flag: a Flag, a ServiceRequest (reason → the RiskAssessment) and a Task
    tracking it (focus → the ServiceRequest, `restriction.period.end` = due time), in that order."""
    base_url = base_url.rstrip("/")
    resources: list[dict[str, Any]] = []
    for flag in flags:
        if flag.priority not in PRIORITY_TO_REQUEST_PRIORITY:
            raise ValueError(f"unknown flag priority {flag.priority!r}")
        if flag.status not in FLAG_STATUS_TO_TASK_STATUS:
            raise ValueError(f"unknown flag status {flag.status!r}")
        resources += [
            _flag(flag, base_url),
            _service_request(flag, risk_assessment_id, base_url),
            _task(flag),
        ]
    return resources


def _flag_code(flag: FlagFacts, base_url: str) -> dict[str, Any]:
    return {
        "coding": [{"system": f"{base_url}/CodeSystem/referral-flag", "code": flag.kind}],
        "text": flag.kind.replace("_", " "),
    }


def _flag(flag: FlagFacts, base_url: str) -> dict[str, Any]:
    is_active = flag.status in ACTIVE_FLAG_STATUSES
    category, display = _FLAG_CATEGORY.get(flag.kind, ("clinical", "Clinical"))
    period = {"start": _datetime(flag.raised_at)}
    if not is_active and flag.closed_at is not None:
        period["end"] = _datetime(flag.closed_at)
    return {
        "resourceType": "Flag",
        "id": flag.id,
        "status": "active" if is_active else "inactive",
        "category": [{"coding": [{"system": FLAG_CATEGORY, "code": category, "display": display}]}],
        "code": _flag_code(flag, base_url),
        "subject": _patient(flag.patient_id),
        "period": period,
    }


def _service_request(flag: FlagFacts, risk_assessment_id: str | None, base_url: str) -> dict[str, Any]:
    request: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": flag.service_request_id or flag.id,
        "status": _REQUEST_STATUS.get(flag.status, "active"),
        "intent": "order",
        # SNOMED CT 3457005 "Patient referral", as in the R4 servicerequest-category examples.
        "category": [{"coding": [{"system": SNOMED, "code": "3457005", "display": "Patient referral"}]}],
        "priority": PRIORITY_TO_REQUEST_PRIORITY[flag.priority],
        "code": _flag_code(flag, base_url),
        "subject": _patient(flag.patient_id),
        "authoredOn": _datetime(flag.raised_at),
    }
    if flag.due_at is not None:
        request["occurrencePeriod"] = {"start": _datetime(flag.raised_at), "end": _datetime(flag.due_at)}
    if risk_assessment_id is not None:
        request["reasonReference"] = [{"reference": f"RiskAssessment/{risk_assessment_id}"}]
    if flag.rules:
        request["note"] = [{"text": f"Raised by rules: {', '.join(flag.rules)}."}]
    return request


def _task(flag: FlagFacts) -> dict[str, Any]:
    task: dict[str, Any] = {
        "resourceType": "Task",
        "id": flag.task_id or flag.id,
        "status": FLAG_STATUS_TO_TASK_STATUS[flag.status],
        "intent": "order",
        "priority": PRIORITY_TO_REQUEST_PRIORITY[flag.priority],
        "code": {
            "coding": [{"system": TASK_CODE, "code": "fulfill", "display": "Fulfill the focal request"}]
        },
        "focus": {"reference": f"ServiceRequest/{flag.service_request_id or flag.id}"},
        "for": _patient(flag.patient_id),
        "authoredOn": _datetime(flag.raised_at),
    }
    if flag.due_at is not None:
        task["restriction"] = {"period": {"end": _datetime(flag.due_at)}}
    return task


# --- Bundle and JSON -----------------------------------------------------------------------------


def extract_bundle(
    resources: Iterable[dict[str, Any]],
    *,
    base_url: str,
    bundle_id: str | None = None,
    timestamp: datetime | None = None,
) -> dict[str, Any]:
    """A `collection` Bundle of already-stored resources, each with the resolvable fullUrl
    `{base_url}/{type}/{id}`, so the relative references inside (`Observation/…`) resolve.

    `collection`, not `transaction`: the resources already exist on this server, and the receiver
    is handed a record to read, not a set of writes to perform.
    """
    base_url = base_url.rstrip("/")
    entries = []
    seen: set[str] = set()
    for resource in resources:
        full_url = f"{base_url}/{resource['resourceType']}/{resource['id']}"
        if full_url in seen:
            raise ValueError(f"duplicate resource {full_url}")
        seen.add(full_url)
        entries.append({"fullUrl": full_url, "resource": resource})
    bundle: dict[str, Any] = {"resourceType": "Bundle"}
    if bundle_id is not None:
        bundle["id"] = bundle_id
    bundle["type"] = "collection"
    if timestamp is not None:
        bundle["timestamp"] = _datetime(timestamp)
    bundle["entry"] = entries
    return bundle


def dumps(resource: Any) -> str:
    """JSON text of a resource with Decimals written as exact JSON numbers (never floats or strings)."""
    if isinstance(resource, dict):
        return (
            "{" + ",".join(f"{json.dumps(str(key))}:{dumps(value)}" for key, value in resource.items()) + "}"
        )
    if isinstance(resource, list | tuple):
        return "[" + ",".join(dumps(value) for value in resource) + "]"
    if isinstance(resource, Decimal):
        if not resource.is_finite():
            raise ValueError(f"{resource} is not a JSON number")
        return format(resource, "f")
    if isinstance(resource, float):
        raise TypeError("floats are not exact; use Decimal")
    return json.dumps(resource, ensure_ascii=False)


# --- small builders ------------------------------------------------------------------------------


def _patient(patient_id: str) -> dict[str, str]:
    return {"reference": f"Patient/{patient_id}"}


def _datetime(moment: datetime) -> str:
    """FHIR dateTime: a time needs a time zone, so naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone")
    return moment.isoformat()
