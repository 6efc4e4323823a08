"""Re-stratification backfill: new records only, idempotent, resumable."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from intake.models import Intake, RestratificationBatch, RestratificationJob, StratificationRecord
from intake.services.restratify import restratify_batch, restratify_start
from tests.delivery.support import ROUTINE_FLAG_ANSWERS, submit

pytestmark = pytest.mark.django_db
RULESET = "lbp-2026.1"


@pytest.fixture
def intakes(webhook_settings, api, patient):
    """Five intakes; three (no flags, so their records are removable) lose their lbp-2026.1 record,
    as if stored before the ruleset existed."""
    for _ in range(3):
        submit(api)
    for _ in range(2):
        submit(api, **ROUTINE_FLAG_ANSWERS)
    missing = list(Intake.objects.filter(flags__isnull=True).values_list("current_revision_id", flat=True))
    removed = StratificationRecord.objects.filter(revision_id__in=missing)
    originals = {record.revision_id: record.result for record in removed}
    removed.delete()
    return originals


def _snapshot():
    return {(r.pk, r.revision_id, r.created_at, str(r.result)) for r in StratificationRecord.objects.all()}


def test_backfill_adds_records_for_the_missing_revisions_only(intakes):
    before = _snapshot()
    out = StringIO()
    call_command("restratify", "--ruleset", RULESET, "--batch-size", "2", stdout=out)
    job = RestratificationJob.objects.get()
    assert (job.status, job.total, job.created, job.skipped, job.failed) == ("finished", 3, 3, 0, 0)
    assert job.batches_total == job.batches_done == 2
    assert before <= _snapshot()  # old records untouched
    assert set(StratificationRecord.objects.values_list("revision_id", flat=True)) >= set(intakes)
    assert StratificationRecord.objects.count() == 5
    assert "3/3" in out.getvalue() and "finished" in out.getvalue()


def test_backfill_rescores_from_the_raw_answers_to_the_same_result(intakes):
    call_command("restratify", "--ruleset", RULESET, stdout=StringIO())
    for revision_id, original in intakes.items():
        redone = StratificationRecord.objects.get(revision_id=revision_id, ruleset=RULESET)
        assert redone.result == original
        assert redone.instrument_versions and redone.back_care == "self_management"


def test_running_it_again_creates_nothing(intakes):
    call_command("restratify", "--ruleset", RULESET, stdout=StringIO())
    snapshot = _snapshot()
    call_command("restratify", "--ruleset", RULESET, stdout=StringIO())
    assert _snapshot() == snapshot
    assert RestratificationJob.objects.order_by("started_at").last().total == 0


def test_an_interrupted_job_resumes_where_it_stopped(intakes):
    job = restratify_start(ruleset=RULESET, batch_size=1)
    first = RestratificationBatch.objects.filter(job=job).order_by("number").first()
    restratify_batch(batch_id=first.pk)
    assert restratify_batch(batch_id=first.pk) is None  # a duplicate message does nothing
    job.refresh_from_db()
    assert (job.created, job.batches_done, job.status) == (1, 1, "running")
    call_command("restratify", "--resume", str(job.pk), stdout=StringIO())
    job.refresh_from_db()
    assert (job.created, job.batches_done, job.status) == (3, 3, "finished")
    assert StratificationRecord.objects.count() == 5


def test_a_clinic_filter_limits_the_job(intakes, other_clinic):
    call_command("restratify", "--clinic", other_clinic.slug, stdout=StringIO())
    assert RestratificationJob.objects.get().total == 0


def test_job_status_endpoint_is_clinic_scoped(intakes, api, api_for, patient, other_clinic):
    call_command("restratify", "--clinic", patient.clinic.slug, stdout=StringIO())
    job = RestratificationJob.objects.get()
    body = api.get(f"/api/v1/restratifications/{job.pk}/").json()
    assert (body["status"], body["total"], body["created"]) == ("finished", 3, 3)
    assert api_for(other_clinic).get(f"/api/v1/restratifications/{job.pk}/").status_code == 404
