"""Working referral flags: acknowledge, assign, start, close, dismiss.

Flow: open → acknowledged → in_progress → closed, or dismissed (with a reason) from any active
status. Every change bumps `version` (the ETag), writes a FlagEvent and an outbox event, under a
row lock so concurrent edits serialise; a caller's stale version is refused (412).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from intake.auth import Actor
from intake.errors import IllegalTransition, InvalidAssignee, StaleVersion
from intake.models import FlagEvent, FlagStatus, ReferralFlag, Role, StaffMembership

from .intakes import FLAG_UPDATED, flag_outbox_event
from .outbox import outbox_record

S = FlagStatus


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str | None  # None: status unchanged (assign)
    needs_note: bool = False


TRANSITIONS: dict[str, Transition] = {
    "acknowledge": Transition(frozenset({S.OPEN}), S.ACKNOWLEDGED),
    "assign": Transition(frozenset({S.OPEN, S.ACKNOWLEDGED, S.IN_PROGRESS}), None),
    "start": Transition(frozenset({S.OPEN, S.ACKNOWLEDGED}), S.IN_PROGRESS),
    "close": Transition(frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS}), S.CLOSED),
    "dismiss": Transition(frozenset({S.OPEN, S.ACKNOWLEDGED, S.IN_PROGRESS}), S.DISMISSED, needs_note=True),
}

ASSIGNABLE_ROLES = (Role.COORDINATOR, Role.CLINICIAN, Role.CLINIC_ADMIN)


def flag_transition(
    *,
    actor: Actor,
    flag_id: uuid.UUID,
    action: str,
    expected_version: int | None = None,
    assignee_id: int | None = None,
    note: str = "",
) -> ReferralFlag:
    """Apply one action to a flag of the actor's clinic, or raise why it cannot be done."""
    transition = TRANSITIONS[action]
    with transaction.atomic():
        flag = (
            ReferralFlag.objects.select_for_update(of=("self",))
            .select_related("revision", "clinic")
            .get(pk=flag_id, clinic=actor.clinic)
        )
        if expected_version is not None and flag.version != expected_version:
            raise StaleVersion(
                f"The flag changed since you read it (now version {flag.version}, "
                f"you sent {expected_version})."
            )
        if flag.status not in transition.sources:
            allowed = ", ".join(sorted(transition.sources))
            raise IllegalTransition(
                f"Cannot {action} a flag that is {flag.status}; {action} needs: {allowed}."
            )
        if transition.needs_note and not note.strip():
            raise IllegalTransition(f"A reason is required to {action} a flag.", path="reason")
        previous = flag.status
        if action == "assign":
            flag.assignee_id = _checked_assignee(actor=actor, assignee_id=assignee_id)
        if transition.target is not None:
            flag.status = transition.target
        if transition.target in (S.CLOSED, S.DISMISSED):
            flag.status_reason = note
        flag.version += 1
        flag.updated_at = timezone.now()
        flag.save(update_fields=["status", "assignee", "status_reason", "version", "updated_at"])
        FlagEvent.objects.create(
            flag=flag,
            action=action,
            from_status=previous,
            to_status=flag.status,
            assignee_id_after=flag.assignee_id,
            note=note,
            actor=actor.label,
        )
        outbox_record([flag_outbox_event(FLAG_UPDATED, flag, action=action, clinic=flag.clinic)])
    return flag


def _checked_assignee(*, actor: Actor, assignee_id: int | None) -> int:
    if assignee_id is None:
        if actor.user_id is None:
            raise InvalidAssignee("Name the assignee (a staff user id).", path="assignee")
        assignee_id = actor.user_id
    is_member = StaffMembership.objects.filter(
        user_id=assignee_id, clinic=actor.clinic, role__in=ASSIGNABLE_ROLES, user__is_active=True
    ).exists()
    if not is_member:
        raise InvalidAssignee(
            "The assignee must be an active coordinator, clinician or clinic admin of this clinic.",
            path="assignee",
        )
    return assignee_id
