"""Getting outbox events out: fan-out to webhook subscriptions, signed HTTP deliveries with
retries and dead letters, and the sweeper that re-sends whatever a lost message left behind.

Guarantee: at-least-once. The outbox row is written with the change; a Celery message is only a
hint to act now. If the broker is down at commit, or a worker dies mid-task, the beat sweeper
finds the undispatched event or the overdue delivery and sends it again. Receivers deduplicate
on `webhook-id` (the event id), which never changes across attempts.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import math
import random
import socket
import ssl
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection as database
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from intake.dispatch import DELIVER_SUBSCRIPTION, DELIVER_WEBHOOK, DISPATCH_EVENTS, SEND_NOTIFICATION, publish
from intake.models import (
    ACTIVE_STATUSES,
    DeliveryStatus,
    FlagNotification,
    NotificationKind,
    OutboxEvent,
    Priority,
    WebhookAttempt,
    WebhookDelivery,
    WebhookFormat,
    WebhookSubscription,
)

from .outbox import FLAG_CREATED, FLAG_UPDATED, INTAKE_SCORED
from .ssrf import Target, TargetUnresolvable, UnsafeWebhookTarget, resolve_target
from .webhook_signature import sign

logger = logging.getLogger(__name__)

EVENT_TYPES = (INTAKE_SCORED, FLAG_CREATED, FLAG_UPDATED)
USER_AGENT = "clinic-intake-webhooks/1"
# Keep a message's countdown short: Redis holds ETA messages in the worker, and the sweeper
# picks up anything due later anyway.
MAX_COUNTDOWN_SECONDS = 300.0
# A delivery waiting for an earlier event of the same subject is looked at again after this.
ORDER_WAIT_SECONDS = 1.0
SWEEP_LIMIT = 1000
# --- fan-out ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FanOut:
    """What a fan-out left to do: subscriptions with new pending deliveries, and e-mails."""

    subscription_ids: list[uuid.UUID]
    deliveries: int
    notification_ids: list[int]


def _subscriptions(clinic_ids: set[int]) -> list[WebhookSubscription]:
    if not clinic_ids:
        return []
    return list(WebhookSubscription.objects.filter(clinic_id__in=clinic_ids, is_active=True))


def _fan_out(events: list[OutboxEvent]) -> FanOut:
    """Write a delivery per (event, matching subscription) and the immediate notifications due.

    Idempotent: both are unique per pair, so fanning an event out twice adds nothing. A
    subscription receives the events that occur after it was created. Subscriptions are filtered
    in Python: a clinic has a handful, and JSON `contains` is not available on SQLite.
    """
    subscriptions = _subscriptions({event.clinic_id for event in events})
    deliveries = [
        WebhookDelivery(event=event, subscription=subscription)
        for event in events
        for subscription in subscriptions
        if subscription.clinic_id == event.clinic_id
        and event.event_type in subscription.event_types
        and subscription.created_at <= event.occurred_at
    ]
    WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    notifications = [n for n in map(_immediate_notification, events) if n is not None]
    notification_ids: list[int] = []
    if notifications:
        FlagNotification.objects.bulk_create(notifications, ignore_conflicts=True)
        notification_ids = list(
            FlagNotification.objects.filter(
                flag_id__in=[n.flag_id for n in notifications], kind=NotificationKind.IMMEDIATE, sent_at=None
            ).values_list("pk", flat=True)
        )
    subscription_ids = list(dict.fromkeys(delivery.subscription_id for delivery in deliveries))
    return FanOut(subscription_ids, len(deliveries), notification_ids)


def _publish_on_commit(fan_out: FanOut, *, log_ids: str) -> None:
    """After commit: wake each subscription with new deliveries; one message per e-mail."""
    if not fan_out.subscription_ids and not fan_out.notification_ids:
        return

    def after_commit() -> None:
        for subscription_id in fan_out.subscription_ids:
            wake_subscription(subscription_id, log_ids=log_ids)
        for notification_id in fan_out.notification_ids:
            publish(SEND_NOTIFICATION, notification_id, log_ids=log_ids)

    transaction.on_commit(after_commit)


# --- waking a subscription's sender ---------------------------------------------------------------

# While a wake-up message for a subscription waits in the queue, later commits add their
# deliveries to it instead of publishing another: under load one message carries many intakes'
# events. The mark expires in case that message is lost (the sweeper is the backstop anyway).
# Web and worker must share the cache for this (one REDIS_URL serves both).
WAKE_KEY = "webhooks:wake:{}"
WAKE_PENDING_SECONDS = 10
# One run sends at most this many deliveries per round, and stops starting new ones after
# SEND_BUDGET_SECONDS (well inside WEBHOOK_DELIVERY_LEASE_SECONDS) or at the first failure.
SEND_BATCH = 50
SEND_ROUNDS = 20
SEND_BUDGET_SECONDS = 20.0
# Outcomes are recorded in one transaction per this many attempts: fewer statements than one each,
# and a worker killed mid-run re-sends (as duplicates the receiver drops by id) at most these.
RECORD_EVERY = 10


def wake_subscription(subscription_id: uuid.UUID | str, *, log_ids: str = "") -> None:
    """Ask a worker to send the subscription's due deliveries, unless a request is already queued.
    Never raises: if Redis is down the deliveries wait for the sweeper."""
    key = WAKE_KEY.format(subscription_id)
    try:
        first = cache.add(key, 1, timeout=WAKE_PENDING_SECONDS)
    except Exception:  # noqa: BLE001 - the cache is Redis too: publishing will tell
        first = True
    if first and not publish(DELIVER_SUBSCRIPTION, str(subscription_id), log_ids=log_ids):
        with contextlib.suppress(Exception):
            cache.delete(key)


def subscription_deliver_due(*, subscription_id: uuid.UUID | str) -> BatchResult:
    """Send the subscription's due deliveries in event order. Returns the delays of the tries due
    soon and, if it stopped early, when to run again for the rest (`resume_after`).

    1. The wake-up mark is cleared first, so a delivery committed from now on wakes another run.
    2. A paused subscription (its receiver failed; `paused_until` ahead) is left alone: one read.
    3. The first round sends the oldest due delivery alone; only once it is delivered do rounds of
       SEND_BATCH follow, over the same connection. So a run that finds the receiver down touches
       one delivery, its attempt and the subscription, however long the backlog: a failure worth
       retrying pauses the subscription until that delivery's next try (its own schedule) and
       leaves every other delivery as it was.
    """
    pk = uuid.UUID(str(subscription_id))
    with contextlib.suppress(Exception):
        cache.delete(WAKE_KEY.format(pk))
    paused_until = WebhookSubscription.objects.filter(pk=pk).values_list("paused_until", flat=True).first()
    now = timezone.now()
    if paused_until is not None and paused_until > now:
        # No new resume is scheduled: the run that paused it did, and each paused run adding one
        # would multiply them. The sweeper wakes it after the pause if that message is lost.
        _hold_wake_ups(pk, (paused_until - now).total_seconds())
        return BatchResult({}, stopped=True, paused_until=paused_until)
    delays: dict[uuid.UUID, float] = {}
    started = time.monotonic()
    resume_after: float | None = None
    paused: datetime | None = None
    size = 1
    connections = Connections()
    try:
        for _ in range(SEND_ROUNDS):
            # Index webhook_delivery_queue: the first `size` pending rows in event order, read from
            # the start (a row not due, e.g. claimed by another run, is skipped, not sorted).
            due = list(
                WebhookDelivery.objects.filter(
                    subscription_id=pk, status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now()
                )
                .order_by("event_id")
                .values_list("pk", flat=True)[:size]
            )
            if not due:
                break
            remaining = SEND_BUDGET_SECONDS - (time.monotonic() - started)
            batch = deliveries_attempt(
                delivery_ids=due, stop_after_failure=True, budget_seconds=remaining, connections=connections
            )
            delays.update(batch.delays)
            if batch.stopped:
                resume_after, paused = batch.resume_after, batch.paused_until
                break
            if len(due) < size:
                break
            size = SEND_BATCH
        else:
            resume_after = 0.0  # rounds used up with more due: go on in a new run
    finally:
        connections.close()
    if paused is not None:
        _pause(pk, paused)
    return BatchResult(
        delays, stopped=resume_after is not None, resume_after=resume_after, paused_until=paused
    )


def _pause(subscription_id: uuid.UUID, until: datetime) -> None:
    """No run sends to this subscription before `until`; commits meanwhile publish no wake-up
    (the run that paused it scheduled one for then, and the sweeper is the backstop)."""
    WebhookSubscription.objects.filter(pk=subscription_id).update(paused_until=until)
    _hold_wake_ups(subscription_id, (until - timezone.now()).total_seconds())
    logger.warning(
        "webhook subscription %s: receiver failing, paused until %s", subscription_id, until.isoformat()
    )


def _hold_wake_ups(subscription_id: uuid.UUID, seconds: float) -> None:
    """Keep the wake-up mark set while the subscription is paused: a commit then costs one cache
    call, not a message and a run that would only find the pause."""
    if seconds <= 0:
        return
    with contextlib.suppress(Exception):
        cache.set(WAKE_KEY.format(subscription_id), 1, timeout=math.ceil(seconds))


def subscription_resume(*, subscription_id: uuid.UUID | str) -> None:
    """Lift a subscription's pause now (its URL or settings were changed, or a redelivery got a
    2xx) and wake its sender. The delivery that failed keeps its own next try."""
    pk = uuid.UUID(str(subscription_id))
    WebhookSubscription.objects.filter(pk=pk, paused_until__isnull=False).update(paused_until=None)
    with contextlib.suppress(Exception):
        cache.delete(WAKE_KEY.format(pk))
    wake_subscription(pk, log_ids=f"subscription {pk}")


def fan_out_on_commit(events: list[OutboxEvent]) -> None:
    """Fan freshly stored events out in the caller's transaction; publish the work after commit."""
    if not events:
        return
    fan_out = _fan_out(events)
    _publish_on_commit(fan_out, log_ids=f"outbox seq {[event.seq for event in events]}")
    logger.log(
        logging.INFO if fan_out.deliveries or fan_out.notification_ids else logging.DEBUG,
        "outbox events %s fanned out to %d deliveries, %d notifications",
        ", ".join(f"{event.event_id} ({event.event_type})" for event in events),
        fan_out.deliveries,
        len(fan_out.notification_ids),
    )


def _immediate_notification(event: OutboxEvent) -> FlagNotification | None:
    """Emergency and urgent flags are emailed to coordinators at once (routine: daily digest)."""
    if event.event_type not in (FLAG_CREATED, FLAG_UPDATED):
        return None
    payload = event.payload
    if payload.get("priority") not in (Priority.EMERGENCY, Priority.URGENT):
        return None
    if payload.get("status") not in ACTIVE_STATUSES:
        return None
    return FlagNotification(flag_id=payload["flag_id"], kind=NotificationKind.IMMEDIATE)


def outbox_dispatch(*, seq: int) -> None:
    """Fan out an event left undispatched (the sweeper's path; new events fan out when stored).

    Idempotent: an event already dispatched only has its pending work published again.
    """
    with transaction.atomic():
        event = OutboxEvent.objects.select_for_update().filter(seq=seq).first()
        if event is None:
            logger.info("outbox seq %s not found (nothing to dispatch)", seq)
            return
        if event.dispatched_at is None:
            _fan_out([event])
            OutboxEvent.objects.filter(seq=seq).update(dispatched_at=timezone.now())
        subscription_ids = list(
            WebhookDelivery.objects.filter(
                subscription__clinic_id=event.clinic_id, event=event, status=DeliveryStatus.PENDING
            ).values_list("subscription_id", flat=True)
        )
        notification_ids: list[int] = []
        if event.event_type in (FLAG_CREATED, FLAG_UPDATED):
            notification_ids = list(
                FlagNotification.objects.filter(
                    flag_id=event.payload["flag_id"], kind=NotificationKind.IMMEDIATE, sent_at=None
                ).values_list("pk", flat=True)
            )
        _publish_on_commit(
            FanOut(subscription_ids, len(subscription_ids), notification_ids),
            log_ids=f"event {event.event_id}",
        )
    logger.info(
        "dispatched event %s (%s) to %d deliveries", event.event_id, event.event_type, len(subscription_ids)
    )


# --- the request ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    latency_ms: int
    error: str = ""

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        """Timeouts, connection errors, 408, 429 and 5xx are worth another try; other answers not."""
        if self.status_code is None:
            return True
        return self.status_code in (408, 429) or self.status_code >= 500


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Plain HTTP to the address we checked (tests and allow-listed local receivers only)."""

    def __init__(self, target: Target, *, connect_timeout: float, read_timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=connect_timeout)
        self._address = target.address
        self._read_timeout = read_timeout

    def connect(self) -> None:
        self.sock = _connected(self._address, self.port, self.timeout, self._read_timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the address we checked, with SNI and certificate checks against the URL's host."""

    def __init__(self, target: Target, *, connect_timeout: float, read_timeout: float) -> None:
        super().__init__(
            target.host, target.port, timeout=connect_timeout, context=ssl.create_default_context()
        )
        self._address = target.address
        self._read_timeout = read_timeout

    def connect(self) -> None:
        raw = _connected(self._address, self.port, self.timeout, self._read_timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def _connected(address: str, port: int, connect_timeout: float | None, read_timeout: float) -> socket.socket:
    """A TCP connection to the checked address. TCP_NODELAY as http.client's own connect() sets:
    without it, a request's body waits for the ACK of its headers (Nagle + delayed ACK, ~40 ms)
    on a kept-alive connection."""
    sock = socket.create_connection((address, port), connect_timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(read_timeout)
    return sock


class Connections:
    """Open connections of one batch, by checked target: a subscription's deliveries share one
    (HTTP keep-alive) instead of connecting once per event. Close when the batch is done."""

    def __init__(self) -> None:
        self._open: dict[Target, http.client.HTTPConnection] = {}

    def take(self, target: Target) -> tuple[http.client.HTTPConnection, bool]:
        """A connection to `target` and whether it was used before (it may since have closed)."""
        reused = self._open.pop(target, None)
        if reused is not None:
            return reused, True
        connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
        fresh = connection_class(
            target,
            connect_timeout=settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS,
            read_timeout=settings.WEBHOOK_READ_TIMEOUT_SECONDS,
        )
        return fresh, False

    def give_back(self, target: Target, connection: http.client.HTTPConnection) -> None:
        self._open[target] = connection

    def close(self) -> None:
        for connection in self._open.values():
            connection.close()
        self._open.clear()


# A kept-alive connection the receiver closed in the meantime fails like this before any answer.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


def http_post(
    url: str, *, body: bytes, headers: dict[str, str], connections: Connections | None = None
) -> Outcome:
    """POST once: resolve and check the target, connect to that address, never follow redirects.

    With `connections`, a connection to the same target is kept open for the next call.
    """
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = resolve_target(url)
    except TargetUnresolvable as exc:
        return Outcome(None, elapsed(), f"dns: {exc}")
    except UnsafeWebhookTarget as exc:
        return Outcome(0, elapsed(), f"refused: {exc}")  # 0: not sent, and never retried
    pool = connections if connections is not None else Connections()
    connection, reused = pool.take(target)
    try:
        try:
            status, reusable = _send(connection, target, body, headers)
        except _STALE:
            if not reused:
                raise
            connection.close()  # closed by the receiver while idle: once more on a fresh one
            connection, _ = pool.take(target)  # (taken out of the pool above, so a new one)
            status, reusable = _send(connection, target, body, headers)
    except TimeoutError:
        connection.close()
        return Outcome(None, elapsed(), "timeout")
    except (OSError, http.client.HTTPException) as exc:
        connection.close()
        return Outcome(None, elapsed(), f"connection: {type(exc).__name__}")
    else:
        if reusable:
            pool.give_back(target, connection)
        else:
            connection.close()
    finally:
        if connections is None:
            pool.close()
    error = ""
    if 300 <= status < 400:
        error = "redirect not followed"
    elif status >= 400:
        error = f"HTTP {status}"
    return Outcome(status, elapsed(), error)


def _send(
    connection: http.client.HTTPConnection, target: Target, body: bytes, headers: dict[str, str]
) -> tuple[int, bool]:
    """(status, whether the connection may carry the next request)."""
    connection.request("POST", target.path, body=body, headers=headers)
    response = connection.getresponse()
    response.read(4096)  # drain a little; the receiver's answer is not stored (may hold PHI)
    reusable = response.isclosed() and not response.will_close
    return response.status, reusable


# --- rendering and signing ---------------------------------------------------------------------


def event_body(event: OutboxEvent, *, format: str) -> bytes:
    """The delivered document: a JSON event, or a FHIR Bundle for `fhir` subscriptions."""
    if format == WebhookFormat.FHIR:
        from .fhir_events import event_bundle

        document: dict[str, Any] = event_bundle(event)
    else:
        document = {
            "id": str(event.event_id),
            "type": event.event_type,
            "occurred_at": event.occurred_at.isoformat(),
            "seq": event.seq,
            "data": event.payload,
        }
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def signed_headers(
    *,
    secret: str,
    event_id: str,
    body: bytes,
    timestamp: int | None = None,
    content_type: str = "application/json",
) -> dict[str, str]:
    """Standard Webhooks headers: `webhook-id` is the event id, the same on every attempt."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": content_type,
        "User-Agent": USER_AGENT,
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret=secret, msg_id=event_id, timestamp=timestamp, body=body),
    }


# --- retry schedule ----------------------------------------------------------------------------


def retry_delay(attempts_made: int) -> float | None:
    """Seconds to wait after the `attempts_made`-th failed try, or None when it is time to give up.

    Exponential-ish steps from WEBHOOK_RETRY_SCHEDULE, each shortened by up to
    WEBHOOK_RETRY_JITTER (so receivers recovering from an outage are not hit all at once).
    """
    schedule: list[float] = list(settings.WEBHOOK_RETRY_SCHEDULE)
    if attempts_made < 1 or attempts_made > len(schedule):
        return None
    jitter = min(max(settings.WEBHOOK_RETRY_JITTER, 0.0), 1.0)
    return schedule[attempts_made - 1] * (1 - jitter * random.random())


# --- one attempt -------------------------------------------------------------------------------


def _claim(delivery_ids: Iterable[uuid.UUID | str]) -> set[uuid.UUID]:
    """Take the due ones of these deliveries for this worker (lease = WEBHOOK_DELIVERY_LEASE_SECONDS):
    one conditional UPDATE … RETURNING, so two workers never hold the same delivery."""
    ids = [uuid.UUID(str(delivery_id)) for delivery_id in delivery_ids]
    if not ids:
        return set()
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WEBHOOK_DELIVERY_LEASE_SECONDS)
    meta = WebhookDelivery._meta
    pk, due, status = meta.pk, meta.get_field("next_attempt_at"), meta.get_field("status")
    assert pk is not None
    quote = database.ops.quote_name
    placeholders = ", ".join(["%s"] * len(ids))
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {quote(due.column)} = %s "  # noqa: S608 - names from the model
        f"WHERE {quote(pk.column)} IN ({placeholders}) AND {quote(status.column)} = %s "
        f"AND {quote(due.column)} <= %s RETURNING {quote(pk.column)}"
    )
    params = [
        due.get_db_prep_value(lease, database),
        *(pk.get_db_prep_value(i, database) for i in ids),
        DeliveryStatus.PENDING.value,
        due.get_db_prep_value(now, database),
    ]
    with database.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {uuid.UUID(str(row[0])) for row in rows}


def _waits_for_earlier(delivery: WebhookDelivery, *, sent_just_now: Iterable[int] = ()) -> bool:
    """True while an earlier event about the same subject is not yet delivered to this subscription:
    receivers never see a flag's update before its creation (dead letters do not block).

    Starts from the subject's earlier events (index `outbox_subject`, a few): one blocks while it
    is not fanned out yet, or while its delivery here is pending (one probe per earlier event on
    `webhook_delivery_queue`). Two queries rather than one EXISTS inside an OR, which PostgreSQL
    may run as a hashed subplan that reads the subscription's whole pending backlog.
    `sent_just_now`: seqs delivered here earlier in this batch (their rows are updated at its end).
    """
    event = delivery.event
    if _first_about_its_subject(event):
        return False  # nothing can come before it (saves the queries on most deliveries)
    earlier = list(
        OutboxEvent.objects.filter(
            clinic_id=event.clinic_id,
            subject_type=event.subject_type,
            subject_id=event.subject_id,
            seq__lt=event.seq,
        )
        .exclude(seq__in=list(sent_just_now))
        .values_list("seq", "dispatched_at", "event_type")
    )
    subscribed = delivery.subscription.event_types
    if any(dispatched_at is None and event_type in subscribed for _, dispatched_at, event_type in earlier):
        return True  # its delivery here may not exist yet
    return bool(earlier) and (
        WebhookDelivery.objects.filter(
            subscription_id=delivery.subscription_id,
            status=DeliveryStatus.PENDING,
            event_id__in=[seq for seq, _, _ in earlier],
        ).exists()
    )


def _first_about_its_subject(event: OutboxEvent) -> bool:
    """A flag's creation, and the scoring of an intake's first revision, open their subject's
    history: every other event about a flag or an intake comes after them."""
    if event.event_type == FLAG_CREATED:
        return True
    return event.event_type == INTAKE_SCORED and event.payload.get("revision") == 1


def delivery_attempt(*, delivery_id: uuid.UUID | str) -> float | None:
    """Make one attempt at a due delivery; returns the seconds until the next try, if one is due soon.

    Does nothing (None) when the delivery is not due or another worker holds it.
    """
    return deliveries_attempt(delivery_ids=[delivery_id]).delays.get(uuid.UUID(str(delivery_id)))


@dataclass(frozen=True)
class BatchResult:
    delays: dict[uuid.UUID, float]  # delivery id → seconds until its next try (tries due soon)
    stopped: bool  # gave up early (a failure, or out of time); the rest was released
    resume_after: float | None = None  # when the released rest is due again (seconds)
    paused_until: datetime | None = None  # a failure's next try: the subscription waits for it


def deliveries_attempt(
    *,
    delivery_ids: Iterable[uuid.UUID | str],
    stop_after_failure: bool = False,
    budget_seconds: float | None = None,
    connections: Connections | None = None,
) -> BatchResult:
    """One attempt at each due delivery among these, in event order, sharing one connection per
    target (`connections`: the caller's, kept open for its next batch). Deliveries not due, or
    held by another worker, are left alone. The outcomes are recorded RECORD_EVERY at a time,
    each group in one transaction.

    With `stop_after_failure`, the first attempt that failed in a way worth retrying (or running
    out of `budget_seconds`) ends the batch: the deliveries of this batch not attempted are
    released, due when the failed one is retried (`paused_until`, for the caller to pause the
    subscription) or at once (out of time, or the failed one was dead-lettered).

    A 2xx for a paused subscription (a redelivery while its receiver was thought down) lifts the
    pause and wakes the subscription's sender.
    """
    started = time.monotonic()
    claimed = _claim(delivery_ids)
    if not claimed:
        return BatchResult({}, stopped=False)
    deliveries = list(
        WebhookDelivery.objects.select_related("subscription", "event")
        .filter(pk__in=claimed)
        .order_by("event__seq")
    )
    delays: dict[uuid.UUID, float] = {}
    outcomes: list[tuple[WebhookDelivery, Outcome, bool]] = []
    sent: list[int] = []
    released: list[uuid.UUID] = []
    failed: uuid.UUID | None = None
    recovered: set[uuid.UUID] = set()
    pool = connections if connections is not None else Connections()
    try:
        for position, delivery in enumerate(deliveries):
            if budget_seconds is not None and time.monotonic() - started > budget_seconds:
                released = [d.pk for d in deliveries[position:]]
                break
            subscription, event = delivery.subscription, delivery.event
            if not subscription.is_active:
                outcomes.append((delivery, Outcome(0, 0, "subscription inactive"), False))
                continue
            if _waits_for_earlier(delivery, sent_just_now=sent):
                later = timezone.now() + timedelta(seconds=ORDER_WAIT_SECONDS)
                WebhookDelivery.objects.filter(pk=delivery.pk).update(
                    next_attempt_at=later, enqueued_at=later
                )
                delays[delivery.pk] = ORDER_WAIT_SECONDS
                continue
            body = event_body(event, format=subscription.format)
            headers = signed_headers(
                secret=subscription.secret,
                event_id=str(event.event_id),
                body=body,
                content_type="application/fhir+json"
                if subscription.format == WebhookFormat.FHIR
                else "application/json",
            )
            outcome = http_post(subscription.url, body=body, headers=headers, connections=pool)
            outcomes.append((delivery, outcome, True))
            if len(outcomes) >= RECORD_EVERY:  # a worker killed now re-sends at most these
                delays.update(_finish(outcomes))
                outcomes = []
            logger.info(
                "webhook event %s → subscription %s: %s in %d ms",
                event.event_id,
                subscription.pk,
                outcome.status_code or outcome.error,
                outcome.latency_ms,
            )
            if outcome.delivered:
                sent.append(event.seq)
                if subscription.paused_until is not None and subscription.paused_until > timezone.now():
                    recovered.add(subscription.pk)
            elif stop_after_failure and outcome.retryable:
                released = [d.pk for d in deliveries[position + 1 :]]
                failed = delivery.pk
                break
    finally:
        if connections is None:
            pool.close()
        delays.update(_finish(outcomes))
    for subscription_id in recovered:
        subscription_resume(subscription_id=subscription_id)
    if not released and failed is None:
        return BatchResult(delays, stopped=False)
    # The rest of this batch waits for the failed one's next try (its schedule, not a new one), or
    # runs at once. Only rows this batch claimed are touched: the backlog behind them is not.
    now = timezone.now()
    resume_at = now
    if failed is not None:
        delays.pop(failed, None)  # the resumed run covers it too
        retry = WebhookDelivery.objects.filter(pk=failed, status=DeliveryStatus.PENDING)
        resume_at = max(retry.values_list("next_attempt_at", flat=True).first() or now, now)
    if released:
        WebhookDelivery.objects.filter(pk__in=released, status=DeliveryStatus.PENDING).update(
            next_attempt_at=resume_at, enqueued_at=resume_at
        )
    return BatchResult(
        delays,
        stopped=True,
        resume_after=(resume_at - now).total_seconds(),
        paused_until=resume_at if resume_at > now else None,
    )


def _finish(outcomes: list[tuple[WebhookDelivery, Outcome, bool]]) -> dict[uuid.UUID, float]:
    """Record the attempts and decide for each: delivered, try again later, or dead-letter.

    One transaction for the batch: the rows locked, the attempts inserted in one statement, each
    delivery updated. Returns the delays of the tries due within MAX_COUNTDOWN_SECONDS.
    """
    if not outcomes:
        return {}
    now = timezone.now()
    delays: dict[uuid.UUID, float] = {}
    with transaction.atomic():
        rows = {
            row.pk: row
            for row in WebhookDelivery.objects.select_for_update().filter(
                pk__in=[d.pk for d, _, _ in outcomes]
            )
        }
        attempts: list[WebhookAttempt] = []
        for delivery, outcome, count_attempt in outcomes:
            row = rows[delivery.pk]
            if count_attempt:
                row.attempt_count += 1
                attempts.append(
                    WebhookAttempt(
                        delivery=row,
                        number=row.attempt_count,
                        attempted_at=now,
                        status_code=outcome.status_code or None,
                        latency_ms=outcome.latency_ms,
                        error=outcome.error[:300],
                    )
                )
            delay = _decide(row, outcome, now=now, event_id=delivery.event.event_id)
            if delay is not None and delay <= MAX_COUNTDOWN_SECONDS:
                delays[row.pk] = delay
        WebhookAttempt.objects.bulk_create(attempts)
        for row in rows.values():  # (bulk_update's CASE per column cost more CPU than these)
            row.save(update_fields=_OUTCOME_FIELDS)
    return delays


_OUTCOME_FIELDS = [
    "attempt_count",
    "last_status_code",
    "last_error",
    "status",
    "delivered_at",
    "dead_at",
    "next_attempt_at",
    "enqueued_at",
]


def _decide(row: WebhookDelivery, outcome: Outcome, *, now: datetime, event_id: uuid.UUID) -> float | None:
    """Apply one outcome to a locked delivery row; returns the delay until its next try, if any."""
    row.last_status_code = outcome.status_code or None
    row.last_error = outcome.error[:300]
    if row.status == DeliveryStatus.DELIVERED:
        return None  # a slower duplicate attempt must not undo a success
    if outcome.delivered:
        row.status = DeliveryStatus.DELIVERED
        row.delivered_at = now
        return None
    delay = retry_delay(row.attempt_count - row.schedule_offset) if outcome.retryable else None
    if delay is None:
        row.status = DeliveryStatus.DEAD
        row.dead_at = now
        logger.warning(
            "webhook event %s → subscription %s dead-lettered after %d attempts: %s",
            event_id,
            row.subscription_id,
            row.attempt_count,
            outcome.error,
        )
        return None
    row.next_attempt_at = now + timedelta(seconds=delay)
    if delay <= MAX_COUNTDOWN_SECONDS:  # the caller publishes it with this countdown
        row.enqueued_at = row.next_attempt_at
    return delay


def delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now (dead-lettered or not), with a fresh retry schedule."""
    with transaction.atomic():
        current = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        current.status = DeliveryStatus.PENDING
        current.next_attempt_at = current.enqueued_at = timezone.now()
        current.dead_at = None
        current.schedule_offset = current.attempt_count
        current.save(update_fields=["status", "next_attempt_at", "enqueued_at", "dead_at", "schedule_offset"])
        transaction.on_commit(
            lambda: publish(DELIVER_WEBHOOK, str(current.pk), log_ids=f"delivery {current.pk}")
        )
    current.refresh_from_db()
    return current


# --- the sweeper -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    events: int
    subscriptions: int
    notifications: int


def outbox_sweep() -> SweepResult:
    """Re-send what a lost message left behind: undispatched events, subscriptions with overdue
    deliveries and unsent notifications older than OUTBOX_REDISPATCH_AFTER_SECONDS. Safe to run
    any time.

    A subscription is woken (one run, its deliveries in order over one connection), never each of
    its deliveries: a message per overdue delivery flooded the queue behind a killed worker's
    backlog (each sweep re-sent every delivery still waiting behind the previous copies) and
    tried a down receiver once per waiting event. The wake-up mark is not consulted: it may have
    been set by a wake-up that died with its worker.
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.OUTBOX_REDISPATCH_AFTER_SECONDS)
    seqs = list(
        OutboxEvent.objects.filter(dispatched_at=None, occurred_at__lt=cutoff)
        .order_by("seq")
        .values_list("seq", flat=True)[:SWEEP_LIMIT]
    )
    for chunk in _chunks(seqs, 100):
        publish(DISPATCH_EVENTS, chunk, log_ids=f"outbox seq {chunk[0]}..{chunk[-1]}")
    # Overdue: due (retry time or a dead worker's lease passed) this long ago and still pending, so
    # its message was lost or sits behind a long queue. One probe per subscription on the index
    # webhook_delivery_due; paused subscriptions are skipped until their pause ends.
    overdue = WebhookDelivery.objects.filter(
        subscription_id=OuterRef("pk"), status=DeliveryStatus.PENDING, next_attempt_at__lt=cutoff
    )
    subscription_ids = list(
        WebhookSubscription.objects.filter(Q(paused_until=None) | Q(paused_until__lte=now))
        .filter(Exists(overdue))
        .order_by("pk")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    for subscription_id in subscription_ids:
        publish(DELIVER_SUBSCRIPTION, str(subscription_id), log_ids=f"subscription {subscription_id}")
    notification_ids = list(
        FlagNotification.objects.filter(sent_at=None, created_at__lt=cutoff)
        .exclude(kind=NotificationKind.DIGEST)
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    for notification_id in notification_ids:
        publish(SEND_NOTIFICATION, notification_id, log_ids=f"notification {notification_id}")
    if seqs or subscription_ids or notification_ids:
        logger.info(
            "outbox sweep re-sent %d events, woke %d subscriptions, re-sent %d notifications",
            len(seqs),
            len(subscription_ids),
            len(notification_ids),
        )
    return SweepResult(len(seqs), len(subscription_ids), len(notification_ids))


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
