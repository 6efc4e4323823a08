"""FHIR R4 over HTTP: `application/fhir+json` in and out, and errors as OperationOutcome.

FHIR endpoints share authentication, clinic scoping and scopes with API v1; only the media
type and the error format differ.
"""

from __future__ import annotations

import json
import re
import uuid
from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from intake.audit import audit_touch
from intake.fhir.inbound import (
    FhirMappingError,
    Issue,
    bundle_questionnaire_responses,
    bundle_questionnaires,
    check_document,
    check_stated_total,
    map_questionnaire_response,
    operation_outcome,
    score_mapped,
)
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
from intake.fhir.questionnaire import questionnaire_for
from intake.instruments import InstrumentError, all_instruments, get
from intake.models import (
    AuditAction,
    AuditEvent,
    IntakeSource,
    Patient,
    Role,
    StratificationRecord,
)
from intake.selectors.fhir_resources import (
    assessment_resource,
    audit_event_resource,
    fhir_base_url,
    outcome_resources,
    score_facts,
)
from intake.selectors.intakes import current_scores, intake_queryset
from intake.services.intakes import (
    IntakeAnswers,
    PatientRef,
    intake_evaluate,
    intake_submit,
    resolve_patient,
)

from .parsers import BodyRefused, PathPart, StrictJSONParser, escape_unstorable
from .permissions import get_actor
from .problems import FHIR_JSON, outcome_from_problem, problem_exception_handler
from .query import query_single
from .renderers import UnicodeSafeJSONRenderer
from .views import audit_intake_write, run_idempotently


class FhirJsonRenderer(UnicodeSafeJSONRenderer):
    media_type = FHIR_JSON
    format = "fhir"


class FhirJsonParser(StrictJSONParser):
    media_type = FHIR_JSON


_FHIRPATH_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def fhirpath(resource_type: str | None, parts: tuple[PathPart, ...]) -> str:
    """The FHIRPath of a place in a body: `QuestionnaireResponse.item[0].linkId`. A key that is no
    FHIRPath name is quoted with backticks; without a usable resourceType the path starts at the
    root element's children, which FHIRPath evaluates against the resource itself."""
    names = [resource_type] if resource_type and _FHIRPATH_NAME.fullmatch(resource_type) else []
    path = ".".join(names)
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
            continue
        name = part if _FHIRPATH_NAME.fullmatch(part) else _quoted(part)
        path += f".{name}" if path else name
    return path


def _quoted(name: str) -> str:
    # Inside backticks FHIRPath reads backslash escapes (\uXXXX too): NUL and surrogates stay exact.
    text = name.replace("\\", "\\\\").replace("`", "\\`")
    return f"`{escape_unstorable(text)}`"


def _refused_body_outcome(exc: BodyRefused) -> dict[str, Any]:
    """A refused body's faults as OperationOutcome issues, each located by FHIRPath."""
    issues = [
        Issue(
            "error",
            "structure" if fault.code == "duplicate_key" else "invalid",
            escape_unstorable(fault.detail),
            (fhirpath(exc.resource_type, fault.parts),) if fault.parts else (),
        )
        for fault in exc.faults
    ]
    if exc.total > len(exc.faults):
        issues.append(
            Issue("information", "informational", f"{exc.total - len(exc.faults)} more faults not listed.")
        )
    return operation_outcome(issues)


def fhir_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, FhirMappingError):
        return Response(operation_outcome(exc.issues), status=exc.status_code, content_type=FHIR_JSON)
    if isinstance(exc, BodyRefused):
        return Response(_refused_body_outcome(exc), status=400, content_type=FHIR_JSON)
    response = problem_exception_handler(exc, context)
    if response is None:
        return None
    if not (isinstance(response.data, dict) and response.data.get("resourceType") == "OperationOutcome"):
        response.data = outcome_from_problem(response.status_code, response.data)
    response.content_type = FHIR_JSON
    return response


def searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A FHIR searchset Bundle of matches; each resource is addressed by its canonical `url` when it
    has one (Questionnaires), else `{base}/{resourceType}/{id}`."""
    base = fhir_base_url()
    entries = [
        {
            "fullUrl": resource.get("url") or f"{base}/{resource['resourceType']}/{resource['id']}",
            "resource": resource,
            "search": {"mode": "match"},
        }
        for resource in resources
    ]
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}


class FhirView(APIView):
    renders_fhir = True
    renderer_classes = [FhirJsonRenderer, UnicodeSafeJSONRenderer]
    parser_classes = [FhirJsonParser, StrictJSONParser]

    def get_exception_handler(self) -> Any:
        return fhir_exception_handler


class QuestionnaireListView(FhirView):
    """Our Questionnaires: one per instrument, canonical `{base}/Questionnaire/{code}`."""

    scope_resource = None

    @extend_schema(
        operation_id="fhir_questionnaire_search",
        summary="FHIR: search Questionnaires (all instruments)",
        responses=OpenApiResponse(description="A FHIR searchset Bundle of Questionnaires."),
        tags=["fhir"],
    )
    def get(self, request: Request) -> Response:
        base = fhir_base_url()
        return Response(searchset([questionnaire_for(d, base_url=base) for d in all_instruments()]))


class QuestionnaireReadView(FhirView):
    scope_resource = None

    @extend_schema(
        summary="FHIR: read an instrument's Questionnaire",
        responses=OpenApiResponse(description="A FHIR R4 Questionnaire."),
        tags=["fhir"],
    )
    def get(self, request: Request, code: str) -> Response:
        try:
            definition = get(code)
        except InstrumentError as exc:
            raise NotFound(str(exc)) from exc
        return Response(questionnaire_for(definition, base_url=fhir_base_url()))


# --- QuestionnaireResponse in, scores and referrals out ---------------------------------------


def _extract_response(body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(QuestionnaireResponse, Questionnaires sent alongside) from a QR or a Bundle holding one."""
    if not isinstance(body, dict):
        raise FhirMappingError([Issue("error", "structure", "Send a QuestionnaireResponse or a Bundle.", ())])
    check_document(body, root="Bundle" if body.get("resourceType") == "Bundle" else "QuestionnaireResponse")
    if body.get("resourceType") == "Bundle":
        responses = bundle_questionnaire_responses(body)
        if len(responses) != 1:
            raise FhirMappingError(
                [
                    Issue(
                        "error",
                        "invalid",
                        f"The Bundle holds {len(responses)} QuestionnaireResponses; send one.",
                        ("Bundle.entry",),
                    )
                ]
            )
        return dict(responses[0]), dict(bundle_questionnaires(body))
    return body, {}


def _exact_numbers(document: Any) -> Any:
    """A client's document with JSON numbers as Decimals (FHIR decimals are exact, not floats)."""
    return json.loads(json.dumps(document), parse_float=Decimal)


def _patient_ref(subject: dict[str, Any] | None) -> PatientRef:
    """Our patient named by QuestionnaireResponse.subject: `Patient/{id}` or an identifier."""
    if not subject:
        raise FhirMappingError(
            [
                Issue(
                    "error",
                    "required",
                    "subject is required: Patient/{id} or an identifier.",
                    ("QuestionnaireResponse.subject",),
                )
            ]
        )
    identifier = subject.get("identifier")
    if isinstance(identifier, dict) and identifier.get("system") and identifier.get("value"):
        return PatientRef(system=str(identifier["system"]), value=str(identifier["value"]))
    reference = str(subject.get("reference") or "")
    prefix, _, patient_id = reference.rpartition("Patient/")
    if patient_id and prefix in ("", f"{fhir_base_url()}/"):
        try:
            return PatientRef(id=uuid.UUID(patient_id))
        except ValueError:
            pass
    raise FhirMappingError(
        [
            Issue(
                "error",
                "not-found",
                f"subject {reference or subject!r} is not a patient of this service; "
                "use Patient/{id} or subject.identifier.",
                ("QuestionnaireResponse.subject",),
            )
        ]
    )


def _evaluate(request: Request) -> tuple[PatientRef, IntakeAnswers, list[Issue]]:
    response, questionnaires = _extract_response(request.data)
    mapped = map_questionnaire_response(response, base_url=fhir_base_url(), questionnaires=questionnaires)
    result = score_mapped(mapped)
    warnings = list(mapped.issues)
    mismatch = check_stated_total(mapped, result)
    if mismatch is not None:
        warnings.append(mismatch)
    answers = IntakeAnswers(
        form=mapped.instrument,
        completed_at=mapped.authored or timezone.now(),
        responses={mapped.instrument: mapped.answers},
        source_document=response,
    )
    return _patient_ref(mapped.subject), answers, warnings


class QuestionnaireResponseCreateView(FhirView):
    """Store a QuestionnaireResponse as an intake: scored, stratified, flags raised."""

    scope_resource = "intakes"

    @extend_schema(
        summary="FHIR: submit a QuestionnaireResponse (or a Bundle with it and its Questionnaire)",
        description="Accepts a response pinned to one of our Questionnaires (`url|version`) or a "
        "LOINC-coded PHQ-9 / GAD-7 from another system. 201 returns a collection Bundle: an "
        "OperationOutcome (warnings, e.g. a stated total that differs from ours), the stored "
        "QuestionnaireResponse, score Observations, the RiskAssessment and a Flag, ServiceRequest "
        "and Task per referral flag. Anything unmappable is 422 with an OperationOutcome naming "
        "the item. `Idempotency-Key` is honoured as in API v1.",
        request=OpenApiTypes.OBJECT,
        responses={201: OpenApiResponse(description="A FHIR Bundle.")},
        tags=["fhir"],
    )
    def post(self, request: Request) -> Response:
        actor = get_actor(request)

        def perform() -> tuple[int, Any]:
            patient, answers, warnings = _evaluate(request)
            outcome = intake_submit(actor=actor, patient=patient, answers=answers, source=IntakeSource.FHIR)
            audit_intake_write(request, outcome, action=AuditAction.CREATE)
            stored = {**_exact_numbers(answers.source_document or {}), "id": str(outcome.intake.pk)}
            issues = [
                *warnings,
                Issue("information", "informational", f"Stored as intake {outcome.intake.pk}.", ()),
            ]
            resources = [
                operation_outcome(issues, resource_id=str(outcome.intake.pk)),
                stored,
                *outcome_resources(outcome),
            ]
            bundle = extract_bundle(resources, base_url=fhir_base_url(), bundle_id=str(outcome.intake.pk))
            return status.HTTP_201_CREATED, json.loads(dumps(bundle))

        return run_idempotently(
            request, perform, location=lambda body: f"/fhir/QuestionnaireResponse/{body['id']}"
        )


class QuestionnaireResponseExtractView(FhirView):
    """SDC $extract: what the response would produce, without storing anything."""

    scope_resource = "intakes"
    required_scope = "intakes:read"  # evaluates only: nothing is stored

    @extend_schema(
        summary="FHIR: $extract score Observations, RiskAssessment and referral resources (nothing stored)",
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiResponse(description="A FHIR collection Bundle.")},
        tags=["fhir"],
    )
    def post(self, request: Request) -> Response:
        actor = get_actor(request)
        patient_ref, answers, warnings = _evaluate(request)
        patient = resolve_patient(clinic=actor.clinic, ref=patient_ref)
        audit_touch(
            request,
            action=AuditAction.READ,
            object_type="fhir:$extract",
            object_id=patient.pk,
            patient_id=patient.pk,
        )
        evaluation = intake_evaluate(clinic=actor.clinic, answers=answers)
        base = fhir_base_url()
        now = timezone.now()
        scores = [
            ScoreFacts(
                id=str(uuid.uuid4()),
                patient_id=str(patient.pk),
                result=result,
                effective_at=answers.completed_at,
            )
            for result in evaluation.scores.values()
        ]
        assessment = risk_assessment(
            AssessmentFacts(
                id=str(uuid.uuid4()),
                patient_id=str(patient.pk),
                stratification=evaluation.stratification,
                assessed_at=now,
            ),
            scores=scores,
            base_url=base,
        )
        referrals = referral_resources(
            [
                FlagFacts.from_decision(
                    decision, id=str(uuid.uuid4()), patient_id=str(patient.pk), status="open", raised_at=now
                )
                for decision in evaluation.stratification.flags
            ],
            risk_assessment_id=assessment["id"],
            base_url=base,
        )
        resources = [
            operation_outcome(warnings, resource_id=str(uuid.uuid4())),
            *[score_observation(s, base_url=base) for s in scores],
            assessment,
            *referrals,
        ]
        return Response(json.loads(dumps(extract_bundle(resources, base_url=base))))


class QuestionnaireResponseReadView(FhirView):
    scope_resource = "intakes"

    @extend_schema(
        summary="FHIR: read a stored QuestionnaireResponse (as received)",
        responses=OpenApiResponse(description="A QuestionnaireResponse."),
        tags=["fhir"],
    )
    def get(self, request: Request, intake_id: uuid.UUID) -> Response:
        intake = intake_queryset(clinic=get_actor(request).clinic).filter(pk=intake_id).first()
        document = intake.current_revision.source_document if intake and intake.current_revision else None
        if document is None:
            raise NotFound("No QuestionnaireResponse with this id (intakes sent as JSON have none).")
        assert intake is not None
        audit_touch(
            request,
            action=AuditAction.READ,
            object_type="fhir:QuestionnaireResponse",
            object_id=intake.pk,
            patient_id=intake.patient_id,
        )
        return Response({**document, "id": str(intake_id)})


class RiskAssessmentReadView(FhirView):
    scope_resource = "intakes"

    @extend_schema(
        summary="FHIR: read a RiskAssessment (a stored stratification)",
        responses=OpenApiResponse(description="A RiskAssessment."),
        tags=["fhir"],
    )
    def get(self, request: Request, record_id: int) -> Response:
        record = (
            StratificationRecord.objects.filter(clinic=get_actor(request).clinic, pk=record_id)
            .select_related("revision__intake")
            .first()
        )
        if record is None:
            raise NotFound("No RiskAssessment with this id.")
        patient_id = record.revision.intake.patient_id
        audit_touch(
            request,
            action=AuditAction.READ,
            object_type="fhir:RiskAssessment",
            object_id=record.pk,
            patient_id=patient_id,
        )
        rows = list(record.revision.scores.all())
        scores = score_facts(rows, intake_id=str(record.revision.intake_id))
        return Response(
            json.loads(dumps(assessment_resource(record, str(record.revision.intake.patient_id), scores)))
        )


NON_EMPTY_STRING = {"type": "string", "minLength": 1}


def _patient_parameter(request: Request, name: str) -> Patient:
    """The caller's clinic's patient a search parameter names (`Patient/{id}` or the id); else 400."""
    value = (query_single(request.query_params, name) or "").removeprefix("Patient/")
    try:
        patient = Patient.objects.filter(clinic=get_actor(request).clinic, pk=uuid.UUID(value)).first()
    except ValueError:
        patient = None
    if patient is None:
        raise ValidationError({name: [f"Name a patient of your clinic: {name}=Patient/{{id}}."]})
    return patient


class ObservationSearchView(FhirView):
    """Score Observations of a patient (current revisions), optionally by code."""

    scope_resource = "intakes"

    @extend_schema(
        summary="FHIR: search score Observations by subject and code",
        parameters=[
            OpenApiParameter("subject", NON_EMPTY_STRING, required=True, description="Patient/{id}"),
            OpenApiParameter(
                "code",
                NON_EMPTY_STRING,
                description="LOINC total code (e.g. 44261-6), our instrument code, or system|code.",
            ),
        ],
        responses=OpenApiResponse(description="A FHIR searchset Bundle."),
        tags=["fhir"],
    )
    def get(self, request: Request) -> Response:
        patient = _patient_parameter(request, "subject")
        rows = current_scores(patient=patient)
        code = query_single(request.query_params, "code")
        if code is not None:
            if not code.strip():
                raise ValidationError({"code": ["Give a value, or leave the parameter out."]})
            instruments = instruments_for_code(code)
            rows = [row for row in rows if row.instrument in instruments]
        for row in rows:
            audit_touch(
                request,
                action=AuditAction.READ,
                object_type="fhir:Observation",
                object_id=row.pk,
                patient_id=patient.pk,
            )
        base = fhir_base_url()
        observations = [score_observation(fact, base_url=base) for fact in score_facts(rows, intake_id=None)]
        return Response(json.loads(dumps(searchset(observations))))


def instruments_for_code(token: str) -> set[str]:
    """Instrument codes matching a search token: a LOINC total/panel code or our own code."""
    system, _, code = token.rpartition("|")
    found = set()
    for definition in all_instruments():
        loinc = {definition.loinc.total, definition.loinc.panel} - {None}
        if system in ("", "http://loinc.org") and code in loinc:
            found.add(definition.code)
        if system in ("", f"{fhir_base_url()}/CodeSystem/instrument") and code == definition.code:
            found.add(definition.code)
    return found


# --- Audit trail as FHIR AuditEvent (clinic administrators only) -------------------------------

# AuditEvent.outcome: 0 success, 4 minor failure (refused/invalid), 8 serious failure.


class AuditEventSearchView(FhirView):
    """The audit trail of one patient, for the clinic's administrators."""

    scope_resource = None

    @extend_schema(
        summary="FHIR: a patient's audit trail (clinic administrators only)",
        parameters=[
            OpenApiParameter("patient", NON_EMPTY_STRING, required=True, description="Patient/{id} or the id")
        ],
        responses=OpenApiResponse(description="A FHIR searchset Bundle of AuditEvents."),
        tags=["fhir"],
    )
    def get(self, request: Request) -> Response:
        actor = get_actor(request)
        if actor.role != Role.CLINIC_ADMIN:
            raise PermissionDenied("Only the clinic's administrators may read the audit trail.")
        patient = _patient_parameter(request, "patient")
        events = AuditEvent.objects.filter(clinic=actor.clinic, patient_id=patient.pk).order_by("at", "pk")[
            :1000
        ]
        audit_touch(
            request,
            action=AuditAction.EXPORT,
            object_type="fhir:AuditEvent",
            object_id=patient.pk,
            patient_id=patient.pk,
        )
        return Response(searchset([audit_event_resource(event) for event in events]))


# --- Everything held about a patient (access requests) -----------------------------------------
