"""Submitting and correcting intakes: score, stratify, store and raise referral flags.

Scoring and stratification are pure and happen before the transaction; everything that is
written — revision, scores, stratification, flags, their history and outbox events — is written
in one transaction with a fixed number of queries whatever the battery.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from intake.auth import Actor
from intake.batteries import FORMS, WORK_STATUSES, IntakeForm
from intake.errors import FieldProblem, FormNotEnabled, IdentifierInUse, InvalidIntake, UnknownPatient
from intake.instruments import InstrumentError, ScoreResult, score
from intake.limits import MAX_MEDICATIONS
from intake.models import (
    PRIORITY_RANK,
    Clinic,
    FlagEvent,
    FlagStatus,
    InstrumentScore,
    Intake,
    IntakeRevision,
    OutboxEvent,
    Patient,
    Priority,
    ReferralFlag,
    StratificationRecord,
)
from intake.outcomes import IntakeOutcome  # re-exported: the API, the admin and tests import it from here
from intake.selectors.patients import patient_by_identifier
from intake.stratification import CURRENT_RULESET, FlagDecision, Stratification, stratify

from .due_times import flag_due_at
from .outbox import FLAG_CREATED, FLAG_UPDATED, INTAKE_SCORED, outbox_event, outbox_record
from .patients import patient_create

# Stored totals keep 4 decimal places (ODI 16/45 = 35.5556); the exact value is in `result`.
_STORED_TOTAL = Decimal("0.0001")


@dataclass(frozen=True)
class PatientRef:
    """Which patient an intake is for: by id, or by identifier (created when demographics given)."""

    id: uuid.UUID | None = None
    system: str | None = None
    value: str | None = None
    demographics: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class IntakeAnswers:
    form: str
    completed_at: datetime.datetime
    responses: Mapping[str, Mapping[str, Any]]
    pain_duration_weeks: int | None = None
    work_status: str = ""
    medications: Sequence[str] | None = None
    source_document: Mapping[str, Any] | None = None  # the FHIR resource as received, if any


@dataclass(frozen=True)
class Evaluation:
    form: IntakeForm
    scores: dict[str, ScoreResult]
    stratification: Stratification


def intake_evaluate(*, clinic: Clinic, answers: IntakeAnswers, ruleset: str = CURRENT_RULESET) -> Evaluation:
    """Score every instrument and stratify; InvalidIntake lists every problem with its path."""
    form = FORMS.get(answers.form)
    if form is None or not (form.single_instrument or form.code in clinic.enabled_forms):
        raise FormNotEnabled(f"Form {answers.form!r} is not enabled for this clinic.", path="form")

    problems: list[FieldProblem] = []
    for code in answers.responses:
        if code not in form.instruments:
            problems.append(
                FieldProblem(f"responses.{code}", "not_in_form", f"{code!r} is not part of form {form.code}.")
            )
    scores: dict[str, ScoreResult] = {}
    for code in form.instruments:
        if code not in answers.responses:
            problems.append(
                FieldProblem(
                    f"responses.{code}",
                    "required",
                    f"Form {form.code} includes {code}: send its answers "
                    "(an empty object if none were given).",
                )
            )
            continue
        try:
            scores[code] = score(code, answers.responses[code])
        except InstrumentError as exc:
            path = f"responses.{exc.path}" if exc.path else f"responses.{code}"
            problems.append(FieldProblem(path, "invalid_answer", str(exc)))
    if form.requires_pain_duration and answers.pain_duration_weeks is None:
        problems.append(FieldProblem("pain_duration_weeks", "required", f"Form {form.code} asks for it."))
    if form.requires_medications and answers.medications is None:
        problems.append(
            FieldProblem("medications", "required", f"Form {form.code} asks for it (an empty list if none).")
        )
    if answers.medications is not None and len(answers.medications) > MAX_MEDICATIONS:
        # The API refuses a longer list itself; this holds for every other door (the admin form).
        problems.append(FieldProblem("medications", "max_length", f"At most {MAX_MEDICATIONS} medications."))
    if answers.work_status and answers.work_status not in WORK_STATUSES:
        problems.append(FieldProblem("work_status", "invalid_choice", f"One of: {', '.join(WORK_STATUSES)}."))
    if problems:
        raise InvalidIntake(_summary(problems), errors=problems)

    stratification = stratify(
        ruleset=ruleset,
        scores=scores,
        answers=answers.responses,
        pain_duration_weeks=answers.pain_duration_weeks,
        medications=list(answers.medications or ()),
    )
    return Evaluation(form=form, scores=scores, stratification=stratification)


def intake_submit(*, actor: Actor, patient: PatientRef, answers: IntakeAnswers, source: str) -> IntakeOutcome:
    """Store a new intake with its first revision, scores, stratification and referral flags."""
    clinic = actor.clinic
    evaluation = intake_evaluate(clinic=clinic, answers=answers)
    now = timezone.now()
    with transaction.atomic():
        resolved = resolve_patient(clinic=clinic, ref=patient)
        intake = Intake.objects.create(
            clinic=clinic,
            patient=resolved,
            form_code=evaluation.form.code,
            form_version=evaluation.form.version,
            completed_at=answers.completed_at,
            created_by=actor.label,
        )
        revision = _store_revision(intake=intake, number=1, answers=answers, source=source, actor=actor)
        Intake.objects.filter(pk=intake.pk).update(current_revision=revision)
        intake.current_revision = revision
        scores = _store_scores(revision=revision, intake=intake, evaluation=evaluation)
        record = _store_stratification(revision=revision, intake=intake, evaluation=evaluation)
        flags = [
            _new_flag(intake=intake, revision=revision, record=record, decision=decision, now=now)
            for decision in evaluation.stratification.flags
        ]
        ReferralFlag.objects.bulk_create(flags)
        FlagEvent.objects.bulk_create(
            FlagEvent(flag=flag, action="raised", to_status=flag.status, actor=actor.label) for flag in flags
        )
        outbox_record(
            [_intake_event(intake, revision, record, scores)]
            + [flag_outbox_event(FLAG_CREATED, flag, action="raised", clinic=clinic) for flag in flags]
        )
    return IntakeOutcome(intake=intake, revision=revision, scores=scores, stratification=record, flags=flags)


def intake_revise(
    *, actor: Actor, intake: Intake, answers: IntakeAnswers, reason: str, source: str
) -> IntakeOutcome:
    """Store corrected answers as a new revision; re-score, re-stratify and reconcile flags.

    Flags the new revision still supports stay as they are (re-prioritised if the priority
    changed); flags it no longer supports are closed as `superseded`; new kinds are raised.
    """
    if answers.form != intake.form_code:
        raise InvalidIntake(
            "A revision keeps the intake's form.",
            errors=[FieldProblem("form", "form_changed", f"This intake uses {intake.form_code}.")],
        )
    evaluation = intake_evaluate(clinic=actor.clinic, answers=answers)
    now = timezone.now()
    with transaction.atomic():
        locked = (
            Intake.objects.select_for_update(of=("self",))
            .select_related("current_revision", "clinic")
            .get(pk=intake.pk)
        )
        assert locked.current_revision is not None
        revision = _store_revision(
            intake=locked,
            number=locked.current_revision.number + 1,
            answers=answers,
            source=source,
            actor=actor,
            reason=reason,
        )
        Intake.objects.filter(pk=locked.pk).update(
            current_revision=revision, completed_at=answers.completed_at
        )
        locked.current_revision = revision
        locked.completed_at = answers.completed_at
        scores = _store_scores(revision=revision, intake=locked, evaluation=evaluation)
        record = _store_stratification(revision=revision, intake=locked, evaluation=evaluation)
        changed = _reconcile_flags(
            intake=locked, revision=revision, record=record, evaluation=evaluation, actor=actor, now=now
        )
        outbox_record([_intake_event(locked, revision, record, scores), *changed])
    flags = list(locked.flags.all())
    return IntakeOutcome(intake=locked, revision=revision, scores=scores, stratification=record, flags=flags)


# --- storing ---------------------------------------------------------------------------------


def resolve_patient(*, clinic: Clinic, ref: PatientRef) -> Patient:
    """The active patient `ref` names in the clinic (registered if demographics are given)."""
    if ref.id is not None:
        found = Patient.objects.filter(clinic=clinic, pk=ref.id).first()
        if found is None:
            raise UnknownPatient("No patient with this id in your clinic.", path="patient.id")
        return _active(found)
    assert ref.system is not None and ref.value is not None
    found = patient_by_identifier(clinic=clinic, system=ref.system, value=ref.value)
    if found is not None:
        return _active(found)
    if not ref.demographics:
        raise UnknownPatient(
            f"No patient with identifier {ref.system}|{ref.value} in your clinic; send family_name, "
            "given_name and birth_date with it to register them.",
            path="patient.identifier",
        )
    try:
        return patient_create(clinic=clinic, identifiers=[(ref.system, ref.value)], **ref.demographics)
    except IdentifierInUse:
        # Registered by a concurrent request a moment ago: use that patient.
        found = patient_by_identifier(clinic=clinic, system=ref.system, value=ref.value)
        if found is None:
            raise
        return _active(found)


def _active(patient: Patient) -> Patient:
    if not patient.is_active:
        raise UnknownPatient("This patient is deactivated; reactivate them first.", path="patient")
    return patient


def _store_revision(
    *, intake: Intake, number: int, answers: IntakeAnswers, source: str, actor: Actor, reason: str = ""
) -> IntakeRevision:
    revision = IntakeRevision(
        intake=intake,
        number=number,
        completed_at=answers.completed_at,
        responses={code: dict(items) for code, items in answers.responses.items()},
        pain_duration_weeks=answers.pain_duration_weeks,
        work_status=answers.work_status,
        medications=list(answers.medications or ()),
        source_document=answers.source_document,
        source=source,
        reason=reason,
        created_by=actor.label,
    )
    revision.save()
    return revision


def _store_scores(
    *, revision: IntakeRevision, intake: Intake, evaluation: Evaluation
) -> list[InstrumentScore]:
    rows = [
        InstrumentScore(
            revision=revision,
            clinic_id=intake.clinic_id,
            patient_id=intake.patient_id,
            completed_at=revision.completed_at,
            instrument=code,
            instrument_version=result.version,
            total=_stored_total(result.total),
            band=result.band or "",
            scorable=result.scorable,
            prorated=result.prorated,
            result=result.as_dict(),
        )
        for code, result in evaluation.scores.items()
    ]
    return InstrumentScore.objects.bulk_create(rows)


def _stored_total(total: int | Decimal | None) -> Decimal | None:
    if total is None:
        return None
    return Decimal(total).quantize(_STORED_TOTAL, rounding=ROUND_HALF_UP)


def _store_stratification(
    *, revision: IntakeRevision, intake: Intake, evaluation: Evaluation
) -> StratificationRecord:
    result = evaluation.stratification
    data = result.as_dict()
    return StratificationRecord.objects.create(
        revision=revision,
        clinic_id=intake.clinic_id,
        ruleset=data["ruleset"],
        medication_list_version=data["medication_list_version"],
        instrument_versions={code: s.version for code, s in evaluation.scores.items()},
        back_care=data["back_care"] or "",
        combined_care=data["combined_care"],
        pathway_on_hold=data["pathway_on_hold"],
        persistent=data["persistent"],
        result=data,
    )


def _new_flag(
    *,
    intake: Intake,
    revision: IntakeRevision,
    record: StratificationRecord,
    decision: FlagDecision,
    now: datetime.datetime,
) -> ReferralFlag:
    return ReferralFlag(
        clinic_id=intake.clinic_id,
        patient_id=intake.patient_id,
        intake=intake,
        revision=revision,
        stratification=record,
        kind=decision.kind,
        priority=decision.priority,
        priority_rank=PRIORITY_RANK[Priority(decision.priority)],
        due_at=flag_due_at(clinic=intake.clinic, priority=decision.priority, raised_at=now),
        reasons=decision.as_dict(),
    )


def _reconcile_flags(
    *,
    intake: Intake,
    revision: IntakeRevision,
    record: StratificationRecord,
    evaluation: Evaluation,
    actor: Actor,
    now: datetime.datetime,
) -> list[OutboxEvent]:
    existing = {flag.kind: flag for flag in ReferralFlag.objects.select_for_update().filter(intake=intake)}
    wanted = {decision.kind: decision for decision in evaluation.stratification.flags}
    created: list[ReferralFlag] = []
    updated: list[tuple[ReferralFlag, str, str]] = []  # flag, action, previous status

    for kind, decision in wanted.items():
        flag = existing.get(kind)
        if flag is None:
            created.append(
                _new_flag(intake=intake, revision=revision, record=record, decision=decision, now=now)
            )
            continue
        previous = flag.status
        if flag.status == FlagStatus.SUPERSEDED:
            flag.status = FlagStatus.OPEN
            flag.status_reason = ""
            action = "reopened"
        elif flag.is_active and flag.priority != decision.priority:
            action = "reprioritised"
        else:
            continue  # still supported and unchanged, or already handled by a coordinator
        flag.priority = decision.priority
        flag.priority_rank = PRIORITY_RANK[Priority(decision.priority)]
        flag.due_at = flag_due_at(clinic=intake.clinic, priority=decision.priority, raised_at=now)
        flag.revision = revision
        flag.stratification = record
        flag.reasons = decision.as_dict()
        updated.append((flag, action, previous))

    for kind, flag in existing.items():
        if kind not in wanted and flag.is_active:
            previous = flag.status
            flag.status = FlagStatus.SUPERSEDED
            flag.status_reason = f"Revision {revision.number} no longer supports this flag."
            flag.revision = revision
            updated.append((flag, "superseded", previous))

    for flag, _, _ in updated:
        flag.version += 1
        flag.updated_at = now
    ReferralFlag.objects.bulk_create(created)
    if updated:
        ReferralFlag.objects.bulk_update(
            [flag for flag, _, _ in updated],
            [
                "status",
                "status_reason",
                "priority",
                "priority_rank",
                "due_at",
                "revision",
                "stratification",
                "reasons",
                "version",
                "updated_at",
            ],
        )
    FlagEvent.objects.bulk_create(
        [FlagEvent(flag=flag, action="raised", to_status=flag.status, actor=actor.label) for flag in created]
        + [
            FlagEvent(
                flag=flag,
                action=action,
                from_status=previous,
                to_status=flag.status,
                note=flag.status_reason,
                actor=actor.label,
            )
            for flag, action, previous in updated
        ]
    )
    clinic = intake.clinic
    return [flag_outbox_event(FLAG_CREATED, flag, action="raised", clinic=clinic) for flag in created] + [
        flag_outbox_event(FLAG_UPDATED, flag, action=action, clinic=clinic) for flag, action, _ in updated
    ]


# --- events ----------------------------------------------------------------------------------


def flag_event_payload(flag: ReferralFlag, *, action: str) -> dict[str, Any]:
    """What receivers learn about a flag (no names or answers: ids, kind, priority, status)."""
    return {
        "flag_id": str(flag.pk),
        "action": action,
        "kind": flag.kind,
        "priority": flag.priority,
        "status": flag.status,
        "due_at": flag.due_at.isoformat(),
        "version": flag.version,
        "assignee_id": flag.assignee_id,
        "patient_id": str(flag.patient_id),
        "intake_id": str(flag.intake_id),
        "revision": flag.revision.number if flag.revision_id else None,
    }


def flag_outbox_event(event_type: str, flag: ReferralFlag, *, action: str, clinic: Clinic) -> OutboxEvent:
    return outbox_event(
        clinic=clinic,
        event_type=event_type,
        subject_type="flag",
        subject_id=flag.pk,
        payload=flag_event_payload(flag, action=action),
    )


def _intake_event(
    intake: Intake, revision: IntakeRevision, record: StratificationRecord, scores: Sequence[InstrumentScore]
) -> OutboxEvent:
    return outbox_event(
        clinic=intake.clinic,
        event_type=INTAKE_SCORED,
        subject_type="intake",
        subject_id=intake.pk,
        payload={
            "intake_id": str(intake.pk),
            "patient_id": str(intake.patient_id),
            "form": intake.form_code,
            "revision": revision.number,
            "completed_at": revision.completed_at.isoformat(),
            "scores": {row.instrument: row.result for row in scores},
            "stratification": record.result,
        },
    )


def _summary(problems: list[FieldProblem]) -> str:
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{first.path}: {first.detail}{more}"
