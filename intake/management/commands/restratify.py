"""Re-stratify stored intakes with a ruleset: new StratificationRecords, never edits.

    manage.py restratify --ruleset lbp-2026.1 [--clinic SLUG] [--batch-size N] [--resume JOB_ID]

With a broker (REDIS_URL) the batches run as a Celery group on the workers and this command
shows their progress; without one they run here, one after another. Safe to interrupt and run
again: revisions that already have a record for the ruleset are skipped (or --resume the job).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from intake.dispatch import RESTRATIFY_BATCH, publish_group
from intake.models import Clinic, JobStatus, RestratificationJob
from intake.services.restratify import (
    DEFAULT_BATCH_SIZE,
    restratify_batch,
    restratify_pending_batches,
    restratify_start,
)
from intake.stratification import CURRENT_RULESET, RULESETS


class ProgressBar:
    """A one-line text progress bar (no dependency: `\\r` redraws it on a terminal)."""

    def __init__(self, total: int, stream: OutputWrapper, width: int = 30) -> None:
        self.total, self.stream, self.width = total, stream, width
        self.started = time.monotonic()
        self.is_tty = stream.isatty()
        self.last_line = ""

    def show(self, done: int, note: str = "") -> None:
        fraction = done / self.total if self.total else 1.0
        filled = int(self.width * fraction)
        rate = done / max(time.monotonic() - self.started, 1e-6)
        line = (
            f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{self.total} "
            f"({fraction:.0%}, {rate:,.0f}/s) {note}"
        )
        if line == self.last_line:
            return
        self.last_line = line
        self.stream.write(("\r" + line) if self.is_tty else line, ending="" if self.is_tty else "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.is_tty:
            self.stream.write("")


class Command(BaseCommand):
    help = "Re-stratify intakes' current revisions with a ruleset (chunked, idempotent, resumable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ruleset", default=CURRENT_RULESET, choices=sorted(RULESETS))
        parser.add_argument("--clinic", help="Only this clinic (slug). Default: every clinic.")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
        parser.add_argument("--resume", type=uuid.UUID, help="Continue a job's unfinished batches.")
        parser.add_argument("--timeout", type=float, default=3600, help="Stop watching after N seconds.")
        parser.add_argument("--no-wait", action="store_true", help="Enqueue and return (see the API).")

    def handle(self, *args: Any, **options: Any) -> None:
        if not 1 <= options["batch_size"] <= 10_000:
            raise CommandError("--batch-size must be between 1 and 10000.")
        if options["resume"]:
            job = RestratificationJob.objects.filter(pk=options["resume"]).first()
            if job is None:
                raise CommandError(f"No job {options['resume']}.")
        else:
            clinic = None
            if options["clinic"]:
                clinic = Clinic.objects.filter(slug=options["clinic"]).first()
                if clinic is None:
                    raise CommandError(f"No clinic {options['clinic']!r}.")
            job = restratify_start(
                ruleset=options["ruleset"], clinic=clinic, batch_size=options["batch_size"]
            )
        batch_ids = restratify_pending_batches(job_id=job.pk)
        self.stdout.write(
            f"job {job.pk}: ruleset {job.ruleset}, {job.total} revisions, {len(batch_ids)} batches to run"
        )
        bar = ProgressBar(job.total, self.stdout)
        if settings.CELERY_TASK_ALWAYS_EAGER:
            for batch_id in batch_ids:
                restratify_batch(batch_id=batch_id)
                job.refresh_from_db()
                bar.show(job.created + job.skipped + job.failed)
        else:
            publish_group(RESTRATIFY_BATCH, ((batch_id,) for batch_id in batch_ids))
            if options["no_wait"]:
                self.stdout.write(f"enqueued; progress at /api/v1/restratifications/{job.pk}/")
                return
            deadline = time.monotonic() + options["timeout"]
            while True:
                job.refresh_from_db()
                bar.show(
                    job.created + job.skipped + job.failed, f"batches {job.batches_done}/{job.batches_total}"
                )
                if job.status == JobStatus.FINISHED or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
        bar.close()
        job.refresh_from_db()
        self.stdout.write(
            f"job {job.pk} {job.status}: created {job.created}, skipped {job.skipped}, failed {job.failed}"
        )
