"""Idempotency keys: a retried request gets the original response, a reused key with a
different body is refused, and concurrent duplicates produce exactly one result.

The key row is inserted first inside the transaction. On PostgreSQL a concurrent request with
the same key blocks on the unique index until the first commits, then fails the insert and
replays the stored response; if the first rolled back, the second proceeds as new.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from intake.errors import FieldProblem, IdempotencyKeyReused, InvalidIntake
from intake.models import IdempotencyRecord

# Keys are kept at least this long (a retry a day later still replays).
RETENTION = timedelta(hours=48)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any
    replayed: bool


def request_digest(data: Any) -> str:
    canonical = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise InvalidIntake(
            "Idempotency-Key must be 1-255 printable ASCII characters.",
            errors=[FieldProblem("Idempotency-Key", "invalid", "1-255 printable ASCII characters.")],
        )
    return key


def idempotent_call(
    *, actor: str, key: str, request_data: Any, perform: Callable[[], tuple[int, Any]]
) -> StoredResponse:
    """Run `perform` once per (actor, key); later calls with the same body replay its response."""
    digest = request_digest(request_data)
    with transaction.atomic():
        record_id = _claim(actor=actor, key=key, digest=digest)
        if record_id is None:  # used before, or by a concurrent request that committed first
            return _replay(IdempotencyRecord.objects.get(actor=actor, key=key), digest)
        status, body = perform()
        response_body = json.dumps(body, cls=DjangoJSONEncoder)
        IdempotencyRecord.objects.filter(pk=record_id).update(
            response_status=status, response_body=response_body
        )
    return StoredResponse(status=status, body=json.loads(response_body), replayed=False)


def _claim(*, actor: str, key: str, digest: str) -> int | None:
    """Insert the key's row, or return None when (actor, key) already has one.

    One statement, no savepoint: `ON CONFLICT DO NOTHING` (PostgreSQL, SQLite ≥ 3.35) instead of
    catching an IntegrityError. On PostgreSQL it waits while a concurrent transaction holds the
    same key, then inserts (that one rolled back) or returns nothing (it committed).
    """
    table = connection.ops.quote_name(IdempotencyRecord._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (actor, key, request_hash, response_body, created_at) "  # noqa: S608 - table name from the model
            "VALUES (%s, %s, %s, '', %s) ON CONFLICT (actor, key) DO NOTHING RETURNING id",
            [actor, key, digest, timezone.now()],
        )
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _replay(record: IdempotencyRecord, digest: str) -> StoredResponse:
    if record.request_hash != digest:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request body.", path="Idempotency-Key"
        )
    assert record.response_status is not None
    return StoredResponse(status=record.response_status, body=json.loads(record.response_body), replayed=True)


def idempotency_purge(*, now: Any = None) -> int:
    """Delete keys older than RETENTION; returns how many."""
    cutoff = (now or timezone.now()) - RETENTION
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
