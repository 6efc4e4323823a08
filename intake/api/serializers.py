"""Request and response shapes of API v1."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from intake.batteries import FORMS, WORK_STATUSES
from intake.limits import (
    MAX_ANSWERS_PER_INSTRUMENT,
    MAX_IDENTIFIERS,
    MAX_INSTRUMENTS_PER_INTAKE,
    MAX_MEDICATIONS,
)
from intake.models import AdministrativeGender, FlagEvent, Intake, IntakeRevision, Patient, ReferralFlag
from intake.services.intakes import IntakeAnswers, IntakeOutcome, PatientRef

from .fields import (
    AnswerValueField,
    BoundedDictField,
    BoundedListSerializer,
    CleanCharField,
    CleanDateField,
    CleanDateTimeField,
    StrictModelSerializer,
    StrictSerializer,
)


class IdentifierSerializer(StrictSerializer):
    system = CleanCharField(max_length=255, help_text="Namespace URI, e.g. the EHR's MRN system.")
    value = CleanCharField(max_length=255)

    def validate(self, attrs: dict[str, str]) -> dict[str, str]:
        # An identifier is one value, sent whole even in a PATCH: DRF's partial mode (inherited
        # from the PATCH) would let `{"system": …}` through without its `value`.
        missing = {
            name: [serializers.ErrorDetail(field.error_messages["required"], code="required")]
            for name, field in self.fields.items()
            if name not in attrs
        }
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


class PatientSerializer(StrictModelSerializer):
    family_name = CleanCharField(max_length=100)
    given_name = CleanCharField(max_length=100)
    identifiers = BoundedListSerializer(
        child=IdentifierSerializer(), max_length=MAX_IDENTIFIERS, required=False
    )

    class Meta:
        model = Patient
        fields = [
            "id",
            "family_name",
            "given_name",
            "birth_date",
            "gender",
            "is_active",
            "identifiers",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "is_active", "created_at", "updated_at"]

    def validate_birth_date(self, value: datetime.date) -> datetime.date:
        if value > timezone.localdate():
            raise serializers.ValidationError("Birth date is in the future.")
        if value.year < 1900:
            raise serializers.ValidationError("Birth date is before 1900.")
        return value

    def validate_identifiers(self, value: list[dict[str, str]]) -> list[dict[str, str]]:
        seen: set[tuple[str, str]] = set()
        for item in value:
            pair = (item["system"], item["value"])
            if pair in seen:
                raise serializers.ValidationError(f"Identifier {pair[0]}|{pair[1]} is listed twice.")
            seen.add(pair)
        return value


def identifier_pairs(validated: dict[str, Any]) -> list[tuple[str, str]] | None:
    items = validated.get("identifiers")
    return None if items is None else [(i["system"], i["value"]) for i in items]


# --- Intakes -----------------------------------------------------------------------------------


class IntakePatientSerializer(StrictSerializer):
    """Who the intake is for: `id`, or `identifier` (plus demographics to register a new patient)."""

    id = serializers.UUIDField(required=False)
    identifier = IdentifierSerializer(required=False)
    family_name = CleanCharField(max_length=100, required=False)
    given_name = CleanCharField(max_length=100, required=False)
    birth_date = CleanDateField(required=False)
    gender = serializers.ChoiceField(choices=AdministrativeGender.choices, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("id" in attrs) == ("identifier" in attrs):
            raise serializers.ValidationError("Give exactly one of `id` or `identifier`.")
        demographics = {
            k: attrs[k] for k in ("family_name", "given_name", "birth_date", "gender") if k in attrs
        }
        if "id" in attrs and demographics:
            raise serializers.ValidationError(
                "Demographics go with `identifier` (to register a new patient)."
            )
        if demographics:
            missing = [k for k in ("family_name", "given_name", "birth_date") if k not in demographics]
            if missing:
                raise serializers.ValidationError(
                    {k: ["Required to register a new patient."] for k in missing}
                )
        return attrs


class IntakeAnswersSerializer(StrictSerializer):
    form = serializers.ChoiceField(choices=sorted(FORMS), help_text="Intake form code, e.g. `lbp-initial`.")
    completed_at = CleanDateTimeField(help_text="When the patient completed it (ISO 8601 with offset).")
    responses = BoundedDictField(
        child=BoundedDictField(child=AnswerValueField(), max_length=MAX_ANSWERS_PER_INSTRUMENT),
        max_length=MAX_INSTRUMENTS_PER_INTAKE,
        help_text='Raw answers per instrument code: `{"phq9": {"q1": 0, …}, "red_flags": {…}}`.',
    )
    pain_duration_weeks = serializers.IntegerField(
        min_value=0, max_value=5200, required=False, allow_null=True
    )
    work_status = serializers.ChoiceField(choices=WORK_STATUSES, required=False)
    medications = serializers.ListField(
        child=CleanCharField(max_length=200),
        max_length=MAX_MEDICATIONS,
        required=False,
        help_text="Medicine names.",
    )

    def validate_completed_at(self, value: datetime.datetime) -> datetime.datetime:
        if value > timezone.now() + datetime.timedelta(minutes=5):
            raise serializers.ValidationError("completed_at is in the future.")
        return value

    def to_answers(self) -> IntakeAnswers:
        data = self.validated_data
        return IntakeAnswers(
            form=data["form"],
            completed_at=data["completed_at"],
            responses=data["responses"],
            pain_duration_weeks=data.get("pain_duration_weeks"),
            work_status=data.get("work_status", ""),
            medications=data.get("medications"),
        )


class IntakeCreateSerializer(IntakeAnswersSerializer):
    patient = IntakePatientSerializer()

    def to_patient_ref(self) -> PatientRef:
        ref = self.validated_data["patient"]
        identifier = ref.get("identifier") or {}
        demographics = {k: ref[k] for k in ("family_name", "given_name", "birth_date", "gender") if k in ref}
        return PatientRef(
            id=ref.get("id"),
            system=identifier.get("system"),
            value=identifier.get("value"),
            demographics=demographics or None,
        )


class IntakeRevisionCreateSerializer(IntakeAnswersSerializer):
    reason = CleanCharField(max_length=2000, free_text=True, help_text="Why the answers are being corrected.")


class FlagSummarySerializer(serializers.ModelSerializer):
    revision = serializers.IntegerField(source="revision.number", read_only=True)

    class Meta:
        model = ReferralFlag
        fields = ["id", "kind", "priority", "status", "due_at", "revision", "version"]


class IntakeSerializer(serializers.Serializer):
    """An intake at one revision: raw answers, scores, stratification and its referral flags."""

    id = serializers.UUIDField(source="intake.id")
    patient = serializers.UUIDField(source="intake.patient_id")
    form = serializers.CharField(source="intake.form_code")
    form_version = serializers.CharField(source="intake.form_version")
    revision = serializers.IntegerField(source="revision.number")
    source = serializers.CharField(source="revision.source")  # type: ignore[assignment]
    completed_at = serializers.DateTimeField(source="revision.completed_at")
    created_at = serializers.DateTimeField(source="intake.created_at")
    responses = serializers.JSONField(source="revision.responses")
    pain_duration_weeks = serializers.IntegerField(source="revision.pain_duration_weeks", allow_null=True)
    work_status = serializers.CharField(source="revision.work_status")
    medications = serializers.ListField(child=serializers.CharField(), source="revision.medications")
    scores = serializers.SerializerMethodField(
        help_text="Per instrument: instrument, version, total, subscales, band, flags, missing, "
        "scorable, prorated."
    )
    stratification = serializers.JSONField(
        source="stratification.result",
        help_text="ruleset, back_care, psychological_therapy, combined_care, pathway_on_hold, persistent, "
        "urgent, reasons (rule + evidence), flags, medications.",
    )
    flags = FlagSummarySerializer(many=True)

    def get_scores(self, outcome: IntakeOutcome) -> dict[str, Any]:
        return {row.instrument: row.result for row in outcome.scores}


class IntakeListSerializer(serializers.ModelSerializer):
    form = serializers.CharField(source="form_code")
    revision = serializers.IntegerField(source="current_revision.number")

    class Meta:
        model = Intake
        fields = ["id", "patient", "form", "form_version", "revision", "completed_at", "created_at"]


class IntakeRevisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = IntakeRevision
        fields = [
            "number",
            "completed_at",
            "source",
            "reason",
            "responses",
            "pain_duration_weeks",
            "work_status",
            "medications",
            "created_at",
            "created_by",
        ]


# --- Flags -------------------------------------------------------------------------------------


class FlagEventSerializer(serializers.ModelSerializer):
    assignee = serializers.IntegerField(source="assignee_id_after", allow_null=True)

    class Meta:
        model = FlagEvent
        fields = ["action", "from_status", "to_status", "assignee", "note", "actor", "at"]


class FlagSerializer(serializers.ModelSerializer):
    revision = serializers.IntegerField(source="revision.number", read_only=True)
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = ReferralFlag
        fields = [
            "id",
            "kind",
            "priority",
            "status",
            "due_at",
            "is_overdue",
            "assignee",
            "patient",
            "intake",
            "revision",
            "reasons",
            "status_reason",
            "escalated_at",
            "version",
            "created_at",
            "updated_at",
        ]

    def get_is_overdue(self, flag: ReferralFlag) -> bool:
        return flag.is_active and flag.due_at < timezone.now()

    def to_representation(self, instance: ReferralFlag) -> dict[str, Any]:
        """The document DRF's field-by-field path builds (the declared fields stay the schema and
        tests compare both paths), built directly: a worklist page is 50 flags × 16 fields, and
        the generic path was about a third of the page's CPU. Uses `revision_number` when the
        queryset annotated it (flag_queryset does), saving a join to the revision."""
        flag = instance
        number = getattr(flag, "revision_number", None)
        moment = _DATETIME.to_representation
        return {
            "id": str(flag.pk),
            "kind": flag.kind,
            "priority": flag.priority,
            "status": flag.status,
            "due_at": moment(flag.due_at),
            "is_overdue": self.get_is_overdue(flag),
            "assignee": flag.assignee_id,
            "patient": flag.patient_id,
            "intake": flag.intake_id,
            "revision": number if number is not None else flag.revision.number,
            "reasons": flag.reasons,
            "status_reason": flag.status_reason,
            "escalated_at": None if flag.escalated_at is None else moment(flag.escalated_at),
            "version": flag.version,
            "created_at": moment(flag.created_at),
            "updated_at": moment(flag.updated_at),
        }


# One instance formats every date-time of a flag as DRF would (ISO 8601, current zone, "Z").
_DATETIME = serializers.DateTimeField()


class FlagDetailSerializer(FlagSerializer):
    events = FlagEventSerializer(many=True, read_only=True)

    class Meta(FlagSerializer.Meta):
        fields = [*FlagSerializer.Meta.fields, "events"]

    def to_representation(self, instance: ReferralFlag) -> dict[str, Any]:
        document = super().to_representation(instance)
        document["events"] = FlagEventSerializer(instance.events.all(), many=True).data
        return document


class FlagNoteSerializer(StrictSerializer):
    note = CleanCharField(max_length=2000, free_text=True, required=False, allow_blank=True, default="")


class FlagDismissSerializer(StrictSerializer):
    reason = CleanCharField(max_length=2000, free_text=True, help_text="Why the flag needs no action.")


class FlagAssignSerializer(StrictSerializer):
    assignee = serializers.IntegerField(
        required=False, allow_null=True, help_text="Staff user id; omit to assign yourself (staff sessions)."
    )
    note = CleanCharField(max_length=2000, free_text=True, required=False, allow_blank=True, default="")


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer"},
            {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "description": "ODI and PEG: two decimals."},
        ]
    }
)
class ScoreDifferenceField(serializers.Field):
    """Follow-up minus baseline in the instrument's own unit: an integer where scores are integers,
    a 2-decimal string where they are decimals (ODI, PEG), exactly as `total` is reported."""

    def to_representation(self, value: Any) -> Any:
        return value


class TrajectoryChangeSerializer(serializers.Serializer):
    absolute = ScoreDifferenceField()
    relative_percent = serializers.CharField(allow_null=True)
    verdict = serializers.CharField(
        allow_null=True, help_text="improved, worsened, no_reliable_change or null."
    )
    mcid = serializers.JSONField(allow_null=True)


class TrajectoryPointSerializer(serializers.Serializer):
    intake = serializers.UUIDField()
    revision = serializers.IntegerField()
    completed_at = serializers.DateTimeField()
    version = serializers.CharField()
    total = serializers.JSONField(
        help_text="Integer, or a 2-decimal string for ODI and PEG; null if not scorable."
    )
    subscales = serializers.JSONField()
    band = serializers.CharField(allow_null=True)
    flags = serializers.ListField(child=serializers.CharField())
    missing = serializers.ListField(child=serializers.CharField())
    scorable = serializers.BooleanField()
    prorated = serializers.BooleanField()
    change_from_baseline = TrajectoryChangeSerializer(allow_null=True)
    change_from_previous = TrajectoryChangeSerializer(allow_null=True)


class TrajectorySerializer(serializers.Serializer):
    patient = serializers.UUIDField()
    instruments = serializers.DictField(child=TrajectoryPointSerializer(many=True))
