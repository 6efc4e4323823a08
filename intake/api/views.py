"""API v1 views: parse with a serializer, call one service, render. Nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from intake.audit import AuditedViewMixin, audit_touch
from intake.errors import StaleVersion
from intake.models import AuditAction, Intake, IntakeSource, Patient, ReferralFlag
from intake.selectors.fhir_resources import patient_export_bundle
from intake.selectors.intakes import flag_queryset, intake_outcome, intake_queryset, patient_trajectory
from intake.selectors.patients import patient_queryset
from intake.services.flags import flag_transition
from intake.services.idempotency import check_key, idempotent_call
from intake.services.intakes import IntakeOutcome, intake_revise, intake_submit
from intake.services.patients import patient_create, patient_set_active, patient_update

from .filters import FlagFilter, IntakeFilter, PatientFilter
from .pagination import FlagCursorPagination
from .permissions import get_actor
from .query import INT32_MAX, ascii_integer, query_integer
from .serializers import (
    FlagAssignSerializer,
    FlagDetailSerializer,
    FlagDismissSerializer,
    FlagNoteSerializer,
    FlagSerializer,
    IntakeCreateSerializer,
    IntakeListSerializer,
    IntakeRevisionCreateSerializer,
    IntakeRevisionSerializer,
    IntakeSerializer,
    PatientSerializer,
    TrajectorySerializer,
    identifier_pairs,
)

PATIENT_EXAMPLE = OpenApiExample(
    "New patient",
    request_only=True,
    value={
        "family_name": "Okafor",
        "given_name": "Ada",
        "birth_date": "1971-03-14",
        "gender": "female",
        "identifiers": [{"system": "urn:oid:2.16.840.1.113883.19.5", "value": "MRN-0042"}],
    },
)


@extend_schema_view(
    list=extend_schema(summary="List and search patients"),
    retrieve=extend_schema(summary="Get a patient"),
    create=extend_schema(summary="Register a patient", examples=[PATIENT_EXAMPLE]),
    update=extend_schema(summary="Replace a patient's demographics and identifiers"),
    partial_update=extend_schema(summary="Change some of a patient's demographics"),
)
class PatientViewSet(
    AuditedViewMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Patients of the caller's clinic. Patients are deactivated, never deleted."""

    scope_resource = "patients"
    audit_object_type = "patient"
    audit_actions = {"export": AuditAction.EXPORT}
    action_scopes = {"trajectory": "intakes:read", "export": ["patients:read", "intakes:read"]}
    serializer_class = PatientSerializer
    filterset_class = PatientFilter
    lookup_value_converter = "uuid"
    problem_statuses = ("409",)

    def get_queryset(self) -> QuerySet[Patient]:
        if getattr(self, "swagger_fake_view", False):
            return Patient.objects.none()
        return patient_queryset(clinic=get_actor(self.request).clinic)

    def perform_create(self, serializer: PatientSerializer) -> None:  # type: ignore[override]
        data = dict(serializer.validated_data)
        identifiers = identifier_pairs(data) or []
        data.pop("identifiers", None)
        serializer.instance = patient_create(
            clinic=get_actor(self.request).clinic, identifiers=identifiers, **data
        )
        patient = serializer.instance
        audit_touch(
            self.request,
            action=AuditAction.CREATE,
            object_type="patient",
            object_id=patient.pk,
            patient_id=patient.pk,
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().create(request, *args, **kwargs)
        response["Location"] = f"{request.path}{response.data['id']}/"
        return response

    def perform_update(self, serializer: PatientSerializer) -> None:  # type: ignore[override]
        data = dict(serializer.validated_data)
        identifiers = identifier_pairs(data)
        data.pop("identifiers", None)
        assert isinstance(serializer.instance, Patient)
        serializer.instance = patient_update(
            patient=serializer.instance, changes=data, identifiers=identifiers
        )

    @extend_schema(request=None, responses=PatientSerializer, summary="Deactivate a patient")
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: str | None = None) -> Response:
        patient = patient_set_active(patient=self.get_object(), is_active=False)
        return Response(self.get_serializer(patient).data, status=status.HTTP_200_OK)

    @extend_schema(
        summary="Scores over time per instrument, with change from baseline and previous (MCID verdict)",
        responses=TrajectorySerializer,
    )
    @action(detail=True, methods=["get"])
    def trajectory(self, request: Request, pk: str | None = None) -> Response:
        patient = self.get_object()
        return Response({"patient": str(patient.pk), "instruments": patient_trajectory(patient=patient)})

    @extend_schema(
        summary="Export everything held about a patient as a FHIR Bundle (for access requests)",
        responses=OpenApiResponse(
            description="A FHIR collection Bundle: Patient, QuestionnaireResponses "
            "(every revision), Observations, RiskAssessments, Flag/ServiceRequest/Task per referral flag."
        ),
    )
    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk: str | None = None) -> Response:
        patient = self.get_object()  # audited as an export (audit_actions)
        return Response(patient_export_bundle(patient), content_type="application/fhir+json")

    @extend_schema(request=None, responses=PatientSerializer, summary="Reactivate a patient")
    @action(detail=True, methods=["post"])
    def reactivate(self, request: Request, pk: str | None = None) -> Response:
        patient = patient_set_active(patient=self.get_object(), is_active=True)
        return Response(self.get_serializer(patient).data, status=status.HTTP_200_OK)


# --- Intakes -----------------------------------------------------------------------------------


def audit_intake_write(request: Request, outcome: IntakeOutcome, *, action: str) -> None:
    intake = outcome.intake
    audit_touch(
        request, action=action, object_type="intake", object_id=intake.pk, patient_id=intake.patient_id
    )


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    # 1-255 printable ASCII characters (intake.services.idempotency.check_key); no surrounding
    # spaces, which HTTP strips from header values.
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]([ -~]{0,253}[!-~])?$"},
    OpenApiParameter.HEADER,
    description="Makes retries safe: the same key and body replay the original response "
    "(header `Idempotent-Replayed: true`); the same key with another body is 422. Kept 48 hours.",
)

INTAKE_EXAMPLE = OpenApiExample(
    "lbp-initial for a known MRN",
    request_only=True,
    value={
        "patient": {"identifier": {"system": "urn:oid:2.16.840.1.113883.19.5", "value": "MRN-0042"}},
        "form": "lbp-initial",
        "completed_at": "2026-11-24T09:30:00Z",
        "responses": {
            "nrs": {"pain": 7},
            "peg": {"p": 7, "e": 6, "g": 6},
            "odi": {f"s{i}": 2 for i in range(1, 11)},
            "startback": {"q1": 1, "q2": 0, "q3": 1, "q4": 1, "q5": 1, "q6": 1, "q7": 1, "q8": 0, "q9": 3},
            "phq9": {"q1": 1, "q2": 2, "q3": 2, "q4": 2, "q5": 1, "q6": 1, "q7": 1, "q8": 0, "q9": 0},
            "gad7": {"q1": 2, "q2": 1, "q3": 2, "q4": 1, "q5": 0, "q6": 1, "q7": 1},
            "pcs": {f"q{i}": 2 for i in range(1, 14)},
            "isi": {"q1": 2, "q2": 2, "q3": 1, "q4": 3, "q5": 1, "q6": 2, "q7": 2},
            "red_flags": {"saddle_anaesthesia": False, "bladder_dysfunction": False, "fever": False},
        },
        "pain_duration_weeks": 20,
        "work_status": "working_part_time",
        "medications": ["tapentadol", "carisoprodol"],
    },
)


def run_idempotently(
    request: Request,
    perform: Callable[[], tuple[int, Any]],
    *,
    location: Callable[[Any], str] = lambda body: f"/api/v1/intakes/{body['id']}/",
) -> Response:
    """Run a create once per Idempotency-Key (if sent); replays carry `Idempotent-Replayed: true`.

    `perform` returns (status, body) where a 201 body's `id` is the intake created.
    """
    key = request.headers.get("Idempotency-Key")
    if key is None:
        status_code, body = perform()
        replayed = False
    else:
        stored = idempotent_call(
            actor=get_actor(request).label, key=check_key(key), request_data=request.data, perform=perform
        )
        status_code, body, replayed = stored.status, stored.body, stored.replayed
    response = Response(body, status=status_code)
    if status_code == status.HTTP_201_CREATED:
        response["Location"] = location(body)
    if replayed:
        response["Idempotent-Replayed"] = "true"
        if status_code == status.HTTP_201_CREATED:  # nothing new was written: the caller read it again
            patient_id = Intake.objects.filter(pk=body["id"]).values_list("patient_id", flat=True).first()
            audit_touch(
                request,
                action=AuditAction.READ,
                object_type="intake",
                object_id=body["id"],
                patient_id=patient_id,
            )
    return response


@extend_schema_view(
    list=extend_schema(summary="List intakes", responses=IntakeListSerializer),
)
class IntakeViewSet(AuditedViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Intakes of the caller's clinic: submit, read, and correct through revisions."""

    scope_resource = "intakes"
    audit_object_type = "intake"
    filterset_class = IntakeFilter
    lookup_value_converter = "uuid"
    problem_statuses = ("409", "422")
    serializer_class = IntakeListSerializer

    def get_queryset(self) -> QuerySet[Intake]:
        if getattr(self, "swagger_fake_view", False):
            return Intake.objects.none()
        return intake_queryset(clinic=get_actor(self.request).clinic)

    @extend_schema(
        summary="Submit an intake: scores, stratification and referral flags in the response",
        request=IntakeCreateSerializer,
        responses={201: IntakeSerializer},
        parameters=[IDEMPOTENCY_KEY],
        examples=[INTAKE_EXAMPLE],
    )
    def create(self, request: Request) -> Response:
        actor = get_actor(request)

        def perform() -> tuple[int, Any]:
            serializer = IntakeCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            outcome = intake_submit(
                actor=actor,
                patient=serializer.to_patient_ref(),
                answers=serializer.to_answers(),
                source=IntakeSource.API,
            )
            audit_intake_write(request, outcome, action=AuditAction.CREATE)
            return status.HTTP_201_CREATED, IntakeSerializer(outcome).data

        return run_idempotently(request, perform)

    @extend_schema(
        summary="Get an intake (current revision, or ?revision=N)",
        parameters=[
            OpenApiParameter(
                "revision",
                {"type": "integer", "minimum": 1, "maximum": INT32_MAX},
                description="A revision number.",
            )
        ],
        responses=IntakeSerializer,
    )
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        intake = self.get_object()
        revision = None
        number = query_integer(request.query_params, "revision", minimum=1, maximum=INT32_MAX)
        if number is not None:
            revision = intake.revisions.filter(number=number).first()
            if revision is None:
                raise NotFound("No such revision of this intake.")
        return Response(IntakeSerializer(intake_outcome(intake=intake, revision=revision)).data)

    @extend_schema(methods=["GET"], summary="Revision history", responses=IntakeRevisionSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        summary="Correct an intake: store a new revision, re-score, re-stratify",
        request=IntakeRevisionCreateSerializer,
        responses={201: IntakeSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    # Every revision at once, oldest first: a plain list (an intake has a handful), neither
    # paginated nor filtered like the intake list.
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def revisions(self, request: Request, pk: str | None = None) -> Response:
        intake = self.get_object()
        if request.method == "GET":
            return Response(IntakeRevisionSerializer(intake.revisions.order_by("number"), many=True).data)
        actor = get_actor(request)

        def perform() -> tuple[int, Any]:
            serializer = IntakeRevisionCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            outcome = intake_revise(
                actor=actor,
                intake=intake,
                answers=serializer.to_answers(),
                reason=serializer.validated_data["reason"],
                source=IntakeSource.API,
            )
            audit_intake_write(request, outcome, action=AuditAction.UPDATE)
            return status.HTTP_201_CREATED, IntakeSerializer(outcome).data

        return run_idempotently(request, perform)


# --- Referral flags ----------------------------------------------------------------------------

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag you last read; a flag changed since then gives 412.",
)


def _etag(flag: ReferralFlag) -> str:
    return f'"{flag.version}"'


def _expected_version(request: Request) -> int | None:
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    version = ascii_integer(header.strip().removeprefix("W/").strip('"'), minimum=0, maximum=INT32_MAX)
    if version is None:
        raise StaleVersion('If-Match must be an ETag this API returned, e.g. "3".', path="If-Match")
    return version


@extend_schema_view(
    list=extend_schema(summary="Worklist: referral flags by urgency, then due time"),
)
class FlagViewSet(
    AuditedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Referral flags of the caller's clinic, most urgent first."""

    scope_resource = "flags"
    audit_object_type = "flag"
    filterset_class = FlagFilter
    serializer_class = FlagSerializer
    lookup_value_converter = "uuid"
    pagination_class = FlagCursorPagination
    problem_statuses = ("409", "412")

    def get_queryset(self) -> QuerySet[ReferralFlag]:
        if getattr(self, "swagger_fake_view", False):
            return ReferralFlag.objects.none()
        return flag_queryset(clinic=get_actor(self.request).clinic)

    @extend_schema(summary="Get a flag with its history (ETag header)", responses=FlagDetailSerializer)
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        flag = self.get_object()
        if request.headers.get("If-None-Match") == _etag(flag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": _etag(flag)})
        return Response(FlagDetailSerializer(flag).data, headers={"ETag": _etag(flag)})

    def _transition(
        self, request: Request, action_name: str, body_class: type[serializers.Serializer], **fields: str
    ) -> Response:
        """Look the flag up first (404 for other clinics, whatever the body), then validate and act.

        `fields` maps service keyword → body field.
        """
        flag = self.get_object()
        body = _validated(body_class, request)
        arguments: dict[str, Any] = {keyword: body.get(field) for keyword, field in fields.items()}
        updated = flag_transition(
            actor=get_actor(request),
            flag_id=flag.pk,
            action=action_name,
            expected_version=_expected_version(request),
            **arguments,
        )
        return Response(FlagDetailSerializer(updated).data, headers={"ETag": _etag(updated)})

    @extend_schema(
        summary="Acknowledge (open → acknowledged)",
        request=FlagNoteSerializer,
        parameters=[IF_MATCH],
        responses=FlagDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "acknowledge", FlagNoteSerializer, note="note")

    @extend_schema(
        summary="Assign to a staff member (yourself by default)",
        request=FlagAssignSerializer,
        parameters=[IF_MATCH],
        responses=FlagDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "assign", FlagAssignSerializer, assignee_id="assignee", note="note")

    @extend_schema(
        summary="Start work (→ in_progress)",
        request=FlagNoteSerializer,
        parameters=[IF_MATCH],
        responses=FlagDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "start", FlagNoteSerializer, note="note")

    @extend_schema(
        summary="Close (done)",
        request=FlagNoteSerializer,
        parameters=[IF_MATCH],
        responses=FlagDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "close", FlagNoteSerializer, note="note")

    @extend_schema(
        summary="Dismiss with a reason",
        request=FlagDismissSerializer,
        parameters=[IF_MATCH],
        responses=FlagDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "dismiss", FlagDismissSerializer, note="reason")


def _validated(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data if request.data else {})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
