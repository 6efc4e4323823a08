"""Re-stratification backfill: stored intakes' current revisions re-scored from their raw answers
and stratified with a ruleset, as NEW StratificationRecords (old ones are never edited).

A job is split into batches of revision-id ranges. Each batch skips revisions that already have
a record for the ruleset (the unique constraint `stratification_one_per_ruleset` backs this up),
so a batch, a job, or the whole command may run again and only fills what is missing.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from intake.batteries import FORMS
from intake.instruments import InstrumentError, ScoreResult, score
from intake.models import (
    Clinic,
    Intake,
    IntakeRevision,
    JobStatus,
    RestratificationBatch,
    RestratificationJob,
    StratificationRecord,
)
from intake.stratification import get_ruleset, stratify
from intake.stratification.errors import InvalidStratificationInput

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 1000


def _missing_record(ruleset: str) -> Any:
    return ~Exists(StratificationRecord.objects.filter(revision_id=OuterRef("pk"), ruleset=ruleset))


def _current_revisions(*, ruleset: str, clinic: Clinic | None) -> Any:
    is_current = Intake.objects.filter(current_revision_id=OuterRef("pk"))
    if clinic is not None:
        is_current = is_current.filter(clinic=clinic)
    return IntakeRevision.objects.filter(Exists(is_current)).filter(_missing_record(ruleset))


def restratify_start(
    *, ruleset: str, clinic: Clinic | None = None, batch_size: int = DEFAULT_BATCH_SIZE
) -> RestratificationJob:
    """Create a job and its batches over the current revisions that lack a `ruleset` record."""
    get_ruleset(ruleset)  # UnknownRuleset before anything is stored
    revision_ids = list(
        _current_revisions(ruleset=ruleset, clinic=clinic).order_by("pk").values_list("pk", flat=True)
    )
    chunks = [revision_ids[start : start + batch_size] for start in range(0, len(revision_ids), batch_size)]
    with transaction.atomic():
        job = RestratificationJob.objects.create(
            ruleset=ruleset,
            clinic=clinic,
            batch_size=batch_size,
            total=len(revision_ids),
            batches_total=len(chunks),
            status=JobStatus.RUNNING if chunks else JobStatus.FINISHED,
            finished_at=None if chunks else timezone.now(),
        )
        RestratificationBatch.objects.bulk_create(
            RestratificationBatch(
                job=job,
                number=number,
                first_revision_id=chunk[0],
                last_revision_id=chunk[-1],
                size=len(chunk),
            )
            for number, chunk in enumerate(chunks, start=1)
        )
    logger.info("restratification job %s: %d revisions in %d batches", job.pk, job.total, len(chunks))
    return job


def restratify_pending_batches(*, job_id: uuid.UUID) -> list[int]:
    """Ids of a job's batches not done yet (what a resumed run re-enqueues)."""
    return list(
        RestratificationBatch.objects.filter(job_id=job_id, done_at=None)
        .order_by("number")
        .values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class BatchResult:
    created: int
    skipped: int
    failed: int


def _record(revision: dict[str, Any], *, ruleset: str) -> StratificationRecord:
    form = FORMS[revision["intake__form_code"]]
    responses: dict[str, Any] = revision["responses"]
    scores: dict[str, ScoreResult] = {code: score(code, responses.get(code, {})) for code in form.instruments}
    result = stratify(
        ruleset=ruleset,
        scores=scores,
        answers=responses,
        pain_duration_weeks=revision["pain_duration_weeks"],
        medications=list(revision["medications"] or ()),
    )
    data = result.as_dict()
    return StratificationRecord(
        revision_id=revision["pk"],
        clinic_id=revision["intake__clinic_id"],
        ruleset=data["ruleset"],
        medication_list_version=data["medication_list_version"],
        instrument_versions={code: s.version for code, s in scores.items()},
        back_care=data["back_care"] or "",
        combined_care=data["combined_care"],
        pathway_on_hold=data["pathway_on_hold"],
        persistent=data["persistent"],
        result=data,
    )


def restratify_batch(*, batch_id: int) -> BatchResult | None:
    """Stratify one batch; None if it was already done (or is being done by another worker)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A backfill batch may be lost in a crash (its done mark is lost with it, so it is
            # redone): no need to wait for the WAL flush at commit.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        # Marking the batch done first takes its row lock: a duplicate message waits, then finds
        # it done. Should this transaction fail, the mark rolls back with the records.
        if not RestratificationBatch.objects.filter(pk=batch_id, done_at=None).update(done_at=timezone.now()):
            return None
        batch = RestratificationBatch.objects.select_related("job", "job__clinic").get(pk=batch_id)
        job = batch.job
        revisions = (
            _current_revisions(ruleset=job.ruleset, clinic=job.clinic)
            .filter(pk__gte=batch.first_revision_id, pk__lte=batch.last_revision_id)
            .values(
                "pk",
                "responses",
                "pain_duration_weeks",
                "medications",
                "intake__form_code",
                "intake__clinic_id",
            )
        )
        records: list[StratificationRecord] = []
        failed = 0
        for revision in revisions:
            try:
                records.append(_record(revision, ruleset=job.ruleset))
            except (InstrumentError, InvalidStratificationInput, KeyError) as exc:
                failed += 1
                logger.warning(
                    "restratification job %s: revision %s not scorable (%s)",
                    job.pk,
                    revision["pk"],
                    type(exc).__name__,
                )
        StratificationRecord.objects.bulk_create(records, batch_size=500, ignore_conflicts=True)
        skipped = max(batch.size - len(records) - failed, 0)
        RestratificationJob.objects.filter(pk=job.pk).update(
            created=F("created") + len(records),
            skipped=F("skipped") + skipped,
            failed=F("failed") + failed,
            batches_done=F("batches_done") + 1,
        )
        RestratificationJob.objects.filter(
            pk=job.pk, status=JobStatus.RUNNING, batches_done=F("batches_total")
        ).update(status=JobStatus.FINISHED, finished_at=timezone.now())
    return BatchResult(created=len(records), skipped=skipped, failed=failed)
