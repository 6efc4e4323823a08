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
from django.db import IntegrityError, transaction
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
    existing = IdempotencyRecord.objects.filter(actor=actor, key=key).first()
    if existing is not None:
        return _replay(existing, digest)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(actor=actor, key=key, request_hash=digest)
        except IntegrityError:
            record = None  # a concurrent request with this key committed first
        if record is None:
            winner = IdempotencyRecord.objects.get(actor=actor, key=key)
            return _replay(winner, digest)
        status, body = perform()
        record.response_status = status
        record.response_body = json.dumps(body, cls=DjangoJSONEncoder)
        record.save(update_fields=["response_status", "response_body"])
    return StoredResponse(status=status, body=json.loads(record.response_body), replayed=False)


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
