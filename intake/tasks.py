"""Celery tasks: thin wrappers that call services. Ids in, never model instances."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="intake.ping", acks_late=True, time_limit=10, soft_time_limit=5)
def ping() -> str:
    """Health task: proves a broker → worker → result-backend round trip."""
    return "pong"
