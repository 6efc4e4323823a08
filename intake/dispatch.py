"""The one place that hands work to Celery: tasks are named here and published by name.

Services never import `intake.tasks` (tasks import services, never the reverse): they call
`publish(DELIVER_SUBSCRIPTION, …)` and the task is looked up in the Celery app's registry. A
publish never raises into the caller and never holds up a request: no retry loop (`retry=False`
here, and CELERY_BROKER_TRANSPORT_OPTIONS["max_retries"] = 0 for the connection itself), socket
timeouts, a deadline for the whole publish (BROKER_PUBLISH_DEADLINE_SECONDS), and after a failure
no attempt at all for REDIS_RETRY_AFTER_SECONDS (the broker's breaker). What could not be
published is logged and left in the database for the beat sweeper.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from celery import current_app, group
from django.conf import settings
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from intake.availability import DependencyUnavailable, Lane, address_of, breaker_for

__all__ = [
    "DELIVER_SUBSCRIPTION",
    "DELIVER_WEBHOOK",
    "DISPATCH_EVENTS",
    "ESCALATE_OVERDUE",
    "PING",
    "RESTRATIFY_BATCH",
    "ROUTINE_DIGEST",
    "SEND_NOTIFICATION",
    "SWEEP_OUTBOX",
    "TASK_NAMES",
    "publish",
    "publish_group",
]

logger = logging.getLogger(__name__)

# Task names: intake/tasks.py registers each task under one of these.
PING = "intake.ping"
DISPATCH_EVENTS = "intake.outbox.dispatch"
DELIVER_WEBHOOK = "intake.webhooks.deliver"
DELIVER_SUBSCRIPTION = "intake.webhooks.deliver_subscription"
SWEEP_OUTBOX = "intake.outbox.sweep"
SEND_NOTIFICATION = "intake.notifications.send"
ROUTINE_DIGEST = "intake.notifications.routine_digest"
ESCALATE_OVERDUE = "intake.flags.escalate_overdue"
RESTRATIFY_BATCH = "intake.restratify.batch"
TASK_NAMES = (
    PING,
    DISPATCH_EVENTS,
    DELIVER_WEBHOOK,
    DELIVER_SUBSCRIPTION,
    SWEEP_OUTBOX,
    SEND_NOTIFICATION,
    ROUTINE_DIGEST,
    ESCALATE_OVERDUE,
    RESTRATIFY_BATCH,
)

_PUBLISHING = Lane("broker-publish", threads=2)


def publish(task_name: str, *args: Any, countdown: float | None = None, log_ids: str = "") -> bool:
    """Publish a task within BROKER_PUBLISH_DEADLINE_SECONDS; True when the broker took it.

    On a broker failure (or while the broker's breaker is open after one) log it, ids only, and
    return False: the sweeper re-sends. In eager mode (no REDIS_URL) the task runs here and now.
    """
    task = current_app.tasks[task_name]

    def send() -> None:
        task.apply_async(args=args, countdown=countdown, retry=False)

    breaker = (
        None if task.app.conf.task_always_eager else breaker_for(address_of(str(task.app.conf.broker_url)))
    )
    try:
        if breaker is None:
            send()
        else:
            breaker.check()
            _PUBLISHING.call(send, seconds=settings.BROKER_PUBLISH_DEADLINE_SECONDS)
    except Exception as exc:  # noqa: BLE001 - any publish failure is left to the sweeper, by design
        if breaker is not None and _is_broker_failure(exc):
            breaker.trip()
        logger.warning(
            "could not enqueue %s (%s); the outbox sweeper will re-send it: %s",
            task_name,
            log_ids,
            type(exc).__name__,
        )
        return False
    if breaker is not None:
        breaker.close()
    return True


def publish_group(task_name: str, arguments: Iterable[Sequence[Any]]) -> None:
    """Publish one message per argument tuple as a Celery group (a command's batches).

    Raises when the broker refuses: the caller is an operator's command, which reports it and
    can be resumed; there is no sweeper for these.
    """
    task = current_app.tasks[task_name]
    group(task.s(*args) for args in arguments).apply_async()


def _is_broker_failure(exc: Exception) -> bool:
    """A broker that refused, hung or dropped the connection (kombu wraps most of these in its
    OperationalError); not the breaker's own refusal, which must not keep it open for ever."""
    if isinstance(exc, DependencyUnavailable):
        return False
    return isinstance(exc, KombuOperationalError | OSError | RedisError)
