"""When a referral flag is due, from the clinic's SLA (docs/clinical-reference.md §23 defaults)."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from intake.models import Clinic, Priority


def add_working_days(start: datetime.datetime, days: int, zone: ZoneInfo) -> datetime.datetime:
    """`days` working days (Monday-Friday) after `start`, same local time of day."""
    local = start.astimezone(zone)
    if local.weekday() >= 5:  # raised at a weekend: count from Monday morning's equivalent
        local += datetime.timedelta(days=7 - local.weekday())
    remaining = days
    while remaining > 0:
        local += datetime.timedelta(days=1)
        if local.weekday() < 5:
            remaining -= 1
    return local.astimezone(datetime.UTC)


def flag_due_at(*, clinic: Clinic, priority: str, raised_at: datetime.datetime) -> datetime.datetime:
    if priority == Priority.EMERGENCY:
        return raised_at + datetime.timedelta(minutes=clinic.emergency_due_within_minutes)
    if priority == Priority.URGENT:
        return raised_at + datetime.timedelta(hours=clinic.urgent_due_within_hours)
    return add_working_days(raised_at, clinic.routine_due_within_working_days, ZoneInfo(clinic.timezone))
