"""Intake, flag and trajectory queries, scoped to a clinic."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from intake.instruments import ScoreResult, change
from intake.models import (
    ACTIVE_STATUSES,
    Clinic,
    InstrumentScore,
    Intake,
    IntakeRevision,
    Patient,
    ReferralFlag,
    StratificationRecord,
)
from intake.outcomes import IntakeOutcome
from intake.stratification import CURRENT_RULESET


def intake_queryset(*, clinic: Clinic) -> QuerySet[Intake]:
    return Intake.objects.filter(clinic=clinic).select_related("current_revision")


def patient_latest_pathway(*, patient: Patient) -> StratificationRecord | None:
    """The newest current-revision stratification that decided the patient's pathway.

    A lone screen (a PHQ-9 from the EHR, a red-flag recheck) is stratified too, but without
    STarT Back it decides no back care: it must not hide the pathway an earlier full assessment
    set. A record that put the pathway on hold (cauda equina) does count.
    """
    return (
        StratificationRecord.objects.filter(
            revision__intake__patient=patient,
            revision__intake__current_revision=F("revision"),
            ruleset=CURRENT_RULESET,
        )
        .filter(~Q(back_care="") | Q(pathway_on_hold=True))
        .select_related("revision__intake")
        .order_by("-revision__completed_at", "-pk")
        .first()
    )


def intake_outcome(*, intake: Intake, revision: IntakeRevision | None = None) -> IntakeOutcome:
    """An intake as the API shows it: a revision (default: current) with its scores and flags."""
    revision = revision or intake.current_revision
    assert revision is not None
    scores = list(revision.scores.all())
    stratifications = {record.ruleset: record for record in revision.stratifications.all()}
    record = stratifications.get(CURRENT_RULESET) or max(stratifications.values(), key=lambda r: r.created_at)
    flags = list(intake.flags.select_related("revision").order_by("priority_rank", "due_at"))
    return IntakeOutcome(intake=intake, revision=revision, scores=scores, stratification=record, flags=flags)


def flag_queryset(*, clinic: Clinic) -> QuerySet[ReferralFlag]:
    return (
        ReferralFlag.objects.filter(clinic=clinic)
        # Flags show only their revision's number, not the revision (its answers are about 1 kB
        # of JSON a row): the serializers read this annotation.
        .annotate(revision_number=F("revision__number"))
        .order_by("priority_rank", "due_at", "pk")
    )


def flags_overdue(queryset: QuerySet[ReferralFlag], *, overdue: bool) -> QuerySet[ReferralFlag]:
    condition = {"status__in": ACTIVE_STATUSES, "due_at__lt": timezone.now()}
    return queryset.filter(**condition) if overdue else queryset.exclude(**condition)


def score_result_of(row: InstrumentScore) -> ScoreResult:
    """Rebuild the engine's result from a stored score (totals exact: see change())."""
    stored: dict[str, Any] = row.result
    total: int | Decimal | None
    if row.total is None:
        total = None
    elif isinstance(stored.get("total"), int):
        total = int(row.total)
    else:
        total = Decimal(row.total)
    subscales = {
        name: (Decimal(v) if isinstance(v, str) else v) for name, v in stored.get("subscales", {}).items()
    }
    return ScoreResult(
        instrument=row.instrument,
        version=row.instrument_version,
        total=total,
        subscales=subscales,
        band=row.band or None,
        flags=list(stored.get("flags", [])),
        missing=list(stored.get("missing", [])),
        scorable=row.scorable,
        prorated=row.prorated,
    )


def current_scores(*, patient: Patient) -> list[InstrumentScore]:
    """A patient's scores from each intake's current revision, by instrument then time."""
    current = Intake.objects.filter(patient=patient).values("current_revision_id")
    return list(
        InstrumentScore.objects.filter(patient=patient, revision_id__in=current)
        .select_related("revision")
        .order_by("instrument", "completed_at", "pk")
    )


def patient_trajectory(*, patient: Patient) -> dict[str, list[dict[str, Any]]]:
    """Each instrument's scores over time (current revisions only), with change from the
    baseline (first scorable) and from the previous scorable point, and the MCID verdict."""
    rows = current_scores(patient=patient)
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    baseline: dict[str, ScoreResult] = {}
    previous: dict[str, ScoreResult] = {}
    for row in rows:
        result = score_result_of(row)
        point: dict[str, Any] = {
            "intake": str(row.revision.intake_id),
            "revision": row.revision.number,
            "completed_at": row.completed_at,
            **{k: v for k, v in result.as_dict().items() if k not in ("instrument",)},
            "change_from_baseline": None,
            "change_from_previous": None,
        }
        has_total = result.scorable and result.total is not None
        if has_total and row.instrument in baseline:
            point["change_from_baseline"] = _change_dict(row.instrument, baseline[row.instrument], result)
            point["change_from_previous"] = _change_dict(row.instrument, previous[row.instrument], result)
        if has_total:
            baseline.setdefault(row.instrument, result)
            previous[row.instrument] = result
        series[row.instrument].append(point)
    return dict(series)


def _change_dict(code: str, before: ScoreResult, after: ScoreResult) -> dict[str, Any]:
    delta = change(code, before, after)
    data = delta.as_dict()
    mcid = delta.mcid
    return {
        "absolute": data["absolute"],
        "relative_percent": data["relative_percent"],
        "verdict": data["verdict"],
        "mcid": None
        if mcid is None
        else {
            "points": None if mcid.points is None else str(mcid.points),
            "percent": None if mcid.percent is None else str(mcid.percent),
        },
    }
