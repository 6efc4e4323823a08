"""Stored records as FHIR R4 resources: scores, stratifications, flags, patients, audit rows.

Reads only (no writes): shared by the FHIR endpoints, the patient export and the admin.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings

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
from intake.instruments import get
from intake.models import (
    AuditEvent,
    FlagStatus,
    InstrumentScore,
    IntakeRevision,
    Patient,
    ReferralFlag,
    StratificationRecord,
)
from intake.outcomes import IntakeOutcome
from intake.selectors.intakes import score_result_of
from intake.stratification import stratification_from_dict


def fhir_base_url() -> str:
    return str(settings.FHIR_CANONICAL_BASE).rstrip("/")


def score_facts(rows: Iterable[InstrumentScore], *, intake_id: str | None) -> list[ScoreFacts]:
    return [
        ScoreFacts(
            id=str(row.pk),
            patient_id=str(row.patient_id),
            result=score_result_of(row),
            effective_at=row.completed_at,
            questionnaire_response_id=intake_id,
        )
        for row in rows
    ]


def flag_facts(flag: ReferralFlag) -> FlagFacts:
    closed = flag.status in (FlagStatus.CLOSED, FlagStatus.DISMISSED, FlagStatus.SUPERSEDED)
    return FlagFacts(
        id=str(flag.pk),
        patient_id=str(flag.patient_id),
        kind=flag.kind,
        priority=flag.priority,
        status=flag.status,
        raised_at=flag.created_at,
        due_at=flag.due_at,
        closed_at=flag.updated_at if closed else None,
        rules=tuple(flag.reasons.get("rules", ())),
    )


def assessment_resource(
    record: StratificationRecord, patient_id: str, scores: Sequence[ScoreFacts]
) -> dict[str, Any]:
    facts = AssessmentFacts(
        id=str(record.pk),
        patient_id=patient_id,
        stratification=stratification_from_dict(record.result),
        assessed_at=record.created_at,
    )
    return risk_assessment(facts, scores=scores, base_url=fhir_base_url())


def outcome_resources(outcome: IntakeOutcome) -> list[dict[str, Any]]:
    """Observations, the RiskAssessment and per-flag Flag/ServiceRequest/Task of a stored intake."""
    base = fhir_base_url()
    patient_id = str(outcome.intake.patient_id)
    scores = score_facts(outcome.scores, intake_id=str(outcome.intake.pk))
    observations = [score_observation(score, base_url=base) for score in scores]
    assessment = assessment_resource(outcome.stratification, patient_id, scores)
    referrals = referral_resources(
        [flag_facts(flag) for flag in outcome.flags],
        risk_assessment_id=str(outcome.stratification.pk),
        base_url=base,
    )
    return [*observations, assessment, *referrals]


_AUDIT_ACTION_CODE = {"create": "C", "read": "R", "update": "U", "export": "E"}


_AUDIT_INTERACTION = {"create": "create", "read": "read", "update": "update", "export": "read"}


_AUDIT_OUTCOME = {"success": "0", "denied": "4", "not_found": "4", "invalid": "4", "error": "8"}


def audit_event_resource(event: AuditEvent) -> dict[str, Any]:
    """One audit row as an R4 AuditEvent (IHE Basic Audit Log shape; no PHI values)."""
    entities: list[dict[str, Any]] = []
    if event.patient_id:
        entities.append(
            {
                "what": {"reference": f"Patient/{event.patient_id}"},
                "role": {
                    "system": "http://terminology.hl7.org/CodeSystem/object-role",
                    "code": "1",
                    "display": "Patient",
                },
            }
        )
    if event.object_id:
        entities.append(
            {
                "what": {
                    "identifier": {
                        "system": f"{fhir_base_url()}/CodeSystem/{event.object_type}",
                        "value": event.object_id,
                    }
                },
                "description": event.object_type,
            }
        )
    agent: dict[str, Any] = {
        "who": {"identifier": {"system": f"{fhir_base_url()}/actor", "value": event.actor}},
        "requestor": True,
    }
    if event.client_address:
        agent["network"] = {"address": event.client_address, "type": "2"}
    return {
        "resourceType": "AuditEvent",
        "id": str(event.pk),
        "type": {
            "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
            "code": "rest",
            "display": "RESTful Operation",
        },
        "subtype": [
            {"system": "http://hl7.org/fhir/restful-interaction", "code": _AUDIT_INTERACTION[event.action]}
        ],
        "action": _AUDIT_ACTION_CODE[event.action],
        "recorded": event.at.isoformat(),
        "outcome": _AUDIT_OUTCOME[event.outcome],
        "outcomeDesc": f"HTTP {event.status_code} {event.method} {event.path}",
        "agent": [agent],
        "source": {
            "observer": {"display": "clinic-intake-service"},
            "type": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                    "code": "4",
                    "display": "Application Server",
                }
            ],
        },
        "entity": entities,
    }


def _patient_resource(patient: Patient) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "active": patient.is_active,
        "identifier": [{"system": i.system, "value": i.value} for i in patient.identifiers.all()],
        "name": [{"family": patient.family_name, "given": [patient.given_name]}],
        "gender": patient.gender,
        "birthDate": patient.birth_date.isoformat(),
    }


def _revision_responses(revision: IntakeRevision, patient_id: str) -> list[dict[str, Any]]:
    """A revision's raw answers as QuestionnaireResponses, one per instrument (ours)."""
    base = fhir_base_url()
    resources = []
    for code, answers in revision.responses.items():
        definition = get(code)
        items = []
        for item_id, value in answers.items():
            if value is None:
                continue
            answer = {"valueBoolean": bool(value)} if isinstance(value, bool) else {"valueInteger": value}
            items.append({"linkId": item_id, "answer": [answer]})
        resources.append(
            {
                "resourceType": "QuestionnaireResponse",
                "id": f"{revision.intake_id}-r{revision.number}-{code.replace('_', '-')}",
                "questionnaire": f"{base}/Questionnaire/{code}|{definition.version}",
                "status": "completed" if revision.pk == revision.intake.current_revision_id else "amended",
                "subject": {"reference": f"Patient/{patient_id}"},
                "authored": revision.completed_at.isoformat(),
                "item": items,
            }
        )
    return resources


def patient_export_bundle(patient: Patient) -> dict[str, Any]:
    """Patient, every revision's answers, every score, stratification and referral flag."""
    patient_id = str(patient.pk)
    revisions = (
        IntakeRevision.objects.filter(intake__patient=patient)
        .select_related("intake")
        .prefetch_related("scores", "stratifications")
        .order_by("completed_at", "number")
    )
    flags = list(ReferralFlag.objects.filter(patient=patient).order_by("created_at"))
    resources: list[dict[str, Any]] = [_patient_resource(patient)]
    base = fhir_base_url()
    for revision in revisions:
        resources += _revision_responses(revision, patient_id)
        scores = score_facts(revision.scores.all(), intake_id=None)
        resources += [score_observation(score, base_url=base) for score in scores]
        resources += [
            assessment_resource(record, patient_id, scores) for record in revision.stratifications.all()
        ]
    resources += referral_resources([flag_facts(flag) for flag in flags], base_url=base)
    return json.loads(dumps(extract_bundle(resources, base_url=base, bundle_id=f"export-{patient_id}")))
