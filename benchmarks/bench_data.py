"""Data for `make bench`, written straight into the benchmark database (never a real one).

    python benchmarks/bench_data.py seed --out run/seed.json
    python benchmarks/bench_data.py subscribe --url http://127.0.0.1:18082/hook --out run/sub.json
    python benchmarks/bench_data.py counts

`seed` creates the benchmark clinic, an integration client with a bearer token, patients, the
intakes the backfill re-stratifies and the referral flags the worklist lists. Rows are written
with the ORM's bulk_create in batches (so model defaults and constraints apply) and a single
UPDATE … FROM links each intake to its revision. It refuses to run unless the database name
starts with `clinic_bench`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic_service.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from oauth2_provider.models import AccessToken, set_token_value  # noqa: E402

from benchmarks.bodies import (  # noqa: E402
    IDENTIFIER_SYSTEM,
    identifier_value,
    intake_responses,
    variant_responses,
)
from intake.batteries import FORMS  # noqa: E402
from intake.instruments import score  # noqa: E402
from intake.models import (  # noqa: E402
    Clinic,
    FlagStatus,
    Intake,
    IntakeRevision,
    Patient,
    PatientIdentifier,
    Priority,
    ReferralFlag,
    StratificationRecord,
)
from intake.services.integrations import integration_client_create  # noqa: E402
from intake.stratification import CURRENT_RULESET, stratify  # noqa: E402

FLAG_KINDS = ("physiotherapy", "medication_review", "psychological_therapy", "urgent_medical_review")
# The worklist's real mix is unknown before launch; this one keeps half of the flags open so
# `?status=open` has to skip the other half (statuses, priorities: weights in percent).
STATUS_WEIGHTS = {
    FlagStatus.OPEN: 50,
    FlagStatus.ACKNOWLEDGED: 15,
    FlagStatus.IN_PROGRESS: 10,
    FlagStatus.CLOSED: 20,
    FlagStatus.DISMISSED: 5,
}
PRIORITY_WEIGHTS = {Priority.EMERGENCY: 5, Priority.URGENT: 25, Priority.ROUTINE: 70}


def _guard() -> None:
    name = settings.DATABASES["default"]["NAME"]
    if not str(name).startswith("clinic_bench"):
        raise SystemExit(f"refusing to write benchmark data into database {name!r}")


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _intakes(*, clinic: Clinic, count: int, label: str) -> None:
    """`count` lbp-initial intakes over the clinic's patients, each with revision 1 as current.

    No scores or stratification: the backfill computes those from the raw answers. One INSERT …
    SELECT generate_series per table: seconds instead of minutes for 100,000 rows.
    """
    form = FORMS["lbp-initial"]
    intake, revision, patient = _table(Intake), _table(IntakeRevision), _table(Patient)
    with connection.cursor() as cursor:
        # Revision ids are drawn from their sequence up front, so each intake is inserted already
        # pointing at its revision (Django's foreign keys are DEFERRABLE INITIALLY DEFERRED).
        cursor.execute(
            f"""
            WITH people AS (SELECT array_agg(id ORDER BY family_name) AS ids FROM {patient}
                            WHERE clinic_id = %(clinic)s)
            INSERT INTO {intake} (id, clinic_id, patient_id, form_code, form_version, completed_at,
                                  current_revision_id, created_at, created_by)
            SELECT gen_random_uuid(), %(clinic)s, people.ids[1 + g %% array_length(people.ids, 1)],
                   %(form)s, %(version)s, now() - (g %% 525600) * interval '1 minute',
                   nextval(pg_get_serial_sequence(%(revision_table)s, 'id')), now(), %(label)s
            FROM people, generate_series(1, %(count)s) AS g
            """,  # noqa: S608 - table names from the models
            {
                "clinic": clinic.pk,
                "form": form.code,
                "version": form.version,
                "count": count,
                "label": label,
                "revision_table": IntakeRevision._meta.db_table,
            },
        )
        cursor.execute(
            f"""
            INSERT INTO {revision} (id, intake_id, number, completed_at, responses, pain_duration_weeks,
                                    work_status, medications, source, reason, created_at, created_by)
            SELECT i.current_revision_id, i.id, 1, i.completed_at,
                   (ARRAY[%(v0)s::jsonb, %(v1)s::jsonb, %(v2)s::jsonb])[1 + (i.current_revision_id %% 3)],
                   20, 'working_full_time', '[]'::jsonb, 'api', '', now(), %(label)s
            FROM {intake} AS i
            WHERE i.clinic_id = %(clinic)s AND i.created_by = %(label)s
            """,  # noqa: S608
            {
                "clinic": clinic.pk,
                "label": label,
                **{f"v{n}": json.dumps(variant_responses(n)) for n in range(3)},
            },
        )


def _case(column: str, weights: dict[Any, int]) -> str:
    """SQL choosing a value by weight from `column` (uniform in [0, 1))."""
    total = sum(weights.values())
    bound = 0
    parts = []
    for value, weight in weights.items():
        bound += weight
        parts.append(f"WHEN {column} < {bound / total} THEN '{value}'")
    return "CASE " + " ".join(parts) + f" ELSE '{next(iter(weights))}' END"


def _flags(*, clinic: Clinic, count: int) -> None:
    """`count` referral flags on count/4 intakes (one per kind), each with a stratification."""
    label = "bench:flags"
    _intakes(clinic=clinic, count=count // len(FLAG_KINDS), label=label)
    responses = intake_responses()
    form = FORMS["lbp-initial"]
    scores = {code: score(code, responses[code]) for code in form.instruments}
    data = stratify(
        ruleset=CURRENT_RULESET, scores=scores, answers=responses, pain_duration_weeks=20, medications=[]
    ).as_dict()
    intake, revision = _table(Intake), _table(IntakeRevision)
    record, flag = _table(StratificationRecord), _table(ReferralFlag)
    rank = "CASE p WHEN 'emergency' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {record} (revision_id, clinic_id, ruleset, medication_list_version,
                                  instrument_versions, back_care, combined_care, pathway_on_hold,
                                  persistent, result, created_at)
            SELECT r.id, i.clinic_id, %(ruleset)s, %(medications)s, %(versions)s::jsonb, %(back_care)s,
                   %(combined)s, %(on_hold)s, %(persistent)s, %(result)s::jsonb, now()
            FROM {revision} AS r JOIN {intake} AS i ON i.current_revision_id = r.id
            WHERE i.clinic_id = %(clinic)s AND i.created_by = %(label)s
            """,  # noqa: S608
            {
                "clinic": clinic.pk,
                "label": label,
                "ruleset": data["ruleset"],
                "medications": data["medication_list_version"],
                "versions": json.dumps({code: s.version for code, s in scores.items()}),
                "back_care": data["back_care"] or "",
                "combined": data["combined_care"],
                "on_hold": data["pathway_on_hold"],
                "persistent": data["persistent"],
                "result": json.dumps(data),
            },
        )
        cursor.execute(
            f"""
            INSERT INTO {flag} (id, clinic_id, patient_id, intake_id, revision_id, stratification_id,
                                kind, priority, priority_rank, status, due_at, reasons, status_reason,
                                version, created_at, updated_at)
            SELECT gen_random_uuid(), clinic_id, patient_id, intake_id, revision_id, record_id, kind, p,
                   {rank}, status, now() + due_days * interval '1 day',
                   '{{"rules": ["bench"], "evidence": {{}}}}'::jsonb, '', 1, now(), now()
            FROM (
                SELECT *, {_case("a", PRIORITY_WEIGHTS)} AS p, {_case("b", STATUS_WEIGHTS)} AS status,
                       c * 60 - 30 AS due_days
                FROM (
                    SELECT i.clinic_id, i.patient_id, i.id AS intake_id, r.id AS revision_id,
                           s.id AS record_id, k.kind, random() AS a, random() AS b, random() AS c
                    FROM {intake} AS i
                    JOIN {revision} AS r ON r.id = i.current_revision_id
                    JOIN {record} AS s ON s.revision_id = r.id
                    CROSS JOIN unnest(%(kinds)s::text[]) AS k(kind)
                    WHERE i.clinic_id = %(clinic)s AND i.created_by = %(label)s
                ) AS drawn
            ) AS chosen
            """,  # noqa: S608
            {"clinic": clinic.pk, "label": label, "kinds": list(FLAG_KINDS)},
        )


def seed(*, patients: int, backfill_intakes: int, flags: int, clients: int, out: Path) -> dict[str, Any]:
    _guard()
    started = time.monotonic()
    with transaction.atomic():
        clinic = Clinic.objects.create(slug="bench", name="Benchmark clinic")
        other = Clinic.objects.create(slug="bench-other", name="Another clinic (must stay invisible)")
        # Several integration clients, as in a clinic with a few EHR feeds: the API throttles per
        # client (THROTTLE_RATE_CLIENT), so one client alone would be capped at its rate.
        tokens = []
        for number in range(clients):
            client, _secret = integration_client_create(
                clinic=clinic, name=f"bench {number}", scopes=sorted(settings.API_SCOPES)
            )
            raw_token = secrets.token_urlsafe(30)
            token = AccessToken(
                application=client.application,
                expires=timezone.now() + datetime.timedelta(days=1),
                scope=" ".join(sorted(settings.API_SCOPES)),
            )
            set_token_value(token, raw_token)
            token.save()
            tokens.append(raw_token)
        people = Patient.objects.bulk_create(
            Patient(
                clinic=clinic,
                family_name=f"Bench{i:06d}",
                given_name="Pat",
                birth_date=datetime.date(1950 + i % 50, 1 + i % 12, 1 + i % 28),
                gender="unknown",
            )
            for i in range(patients)
        )
        PatientIdentifier.objects.bulk_create(
            PatientIdentifier(patient=p, clinic=clinic, system=IDENTIFIER_SYSTEM, value=identifier_value(i))
            for i, p in enumerate(people)
        )
        Patient.objects.bulk_create(
            Patient(clinic=other, family_name="Other", given_name="Pat", birth_date=datetime.date(1970, 1, 1))
            for _ in range(100)
        )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.2026)")  # the same mix of statuses on every run
        _intakes(clinic=clinic, count=backfill_intakes, label="bench:backfill")
        _flags(clinic=clinic, count=flags)
        # A second clinic's flags: the list must filter them out, as in a multi-clinic deployment.
        _flags(clinic=other, count=max(flags // 10, 4))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute(
            f"SELECT status, count(*) FROM {_table(ReferralFlag)} WHERE clinic_id = %s GROUP BY status",  # noqa: S608
            [clinic.pk],
        )
        tally = dict(cursor.fetchall())
    info = {
        "token": tokens[0],
        "tokens": tokens,
        "clinic": clinic.slug,
        "patients": patients,
        "identifier_system": IDENTIFIER_SYSTEM,
        "backfill_intakes": backfill_intakes,
        "flags": flags,
        "flags_by_status": tally,
        "seconds": round(time.monotonic() - started, 1),
    }
    out.write_text(json.dumps(info, indent=2))
    return info


def subscribe(*, url: str, out: Path) -> None:
    """A webhook subscription of the bench clinic to every event type (a local receiver)."""
    _guard()
    from intake.services.delivery import EVENT_TYPES
    from intake.services.webhooks import subscription_create

    subscription = subscription_create(
        clinic=Clinic.objects.get(slug="bench"), url=url, event_types=list(EVENT_TYPES), created_by="bench"
    )
    out.write_text(json.dumps({"id": str(subscription.pk), "url": url}))


def counts() -> None:
    from intake.models import OutboxEvent, WebhookDelivery

    print(
        json.dumps(
            {
                "intakes": Intake.objects.count(),
                "flags": ReferralFlag.objects.count(),
                "undispatched_events": OutboxEvent.objects.filter(dispatched_at=None).count(),
                "pending_deliveries": WebhookDelivery.objects.filter(status="pending").count(),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("seed")
    p.add_argument("--patients", type=int, default=5_000)
    p.add_argument("--backfill-intakes", type=int, default=100_000)
    p.add_argument("--flags", type=int, default=100_000)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--out", type=Path, required=True)
    s = sub.add_parser("subscribe")
    s.add_argument("--url", required=True)
    s.add_argument("--out", type=Path, required=True)
    sub.add_parser("counts")
    args = parser.parse_args()
    if args.command == "seed":
        print(
            json.dumps(
                seed(
                    patients=args.patients,
                    backfill_intakes=args.backfill_intakes,
                    flags=args.flags,
                    clients=args.clients,
                    out=args.out,
                )
            )
        )
    elif args.command == "subscribe":
        subscribe(url=args.url, out=args.out)
    else:
        counts()


if __name__ == "__main__":
    main()
