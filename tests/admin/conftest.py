"""Staff UI fixtures: role groups, staff users per role, and intakes that raise flags."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from intake.auth import ROLE_SCOPES, Actor
from intake.batteries import FORMS
from intake.models import Clinic, Patient, Role
from intake.services.intakes import IntakeAnswers, IntakeOutcome, PatientRef, intake_submit
from intake.services.roles import roles_sync
from tests.builders import low_risk_responses
from tests.factories import IdentifierFactory, MembershipFactory, PatientFactory, UserFactory

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def role_groups(db: Any) -> None:
    """The groups come from migration 0004; transactional tests flush them, so sync again."""
    roles_sync()


def submit(
    patient: Patient,
    *,
    responses: dict[str, dict[str, Any]] | None = None,
    completed_at: datetime.datetime | None = None,
    form: str = "lbp-initial",
    work_status: str = "working_full_time",
) -> IntakeOutcome:
    """Store an intake through the service (as an integration would); `form` may also be a
    single-instrument form such as "phq9" (a lone screen)."""
    merged = low_risk_responses()
    for code, answers in (responses or {}).items():
        merged[code] = {**merged.get(code, {}), **answers}
    merged = {code: merged.get(code, {}) for code in FORMS[form].instruments}
    actor = Actor(clinic=patient.clinic, scopes=ROLE_SCOPES[Role.CLINICIAN], client_id=1)
    return intake_submit(
        actor=actor,
        patient=PatientRef(id=patient.pk),
        answers=IntakeAnswers(
            form=form,
            completed_at=completed_at or timezone.now() - datetime.timedelta(hours=1),
            responses=merged,
            pain_duration_weeks=20 if form == "lbp-initial" else None,
            work_status=work_status if form == "lbp-initial" else "",
            medications=[] if form == "lbp-initial" else None,
        ),
        source="api",
    )


@pytest.fixture
def patient(clinic: Clinic) -> Patient:
    found = PatientFactory(clinic=clinic, family_name="Okafor", given_name="Ada")
    IdentifierFactory(patient=found, value="MRN-1001")
    return found


@pytest.fixture
def flagged_intake(patient: Patient) -> IntakeOutcome:
    """PHQ-9 item 9 answered 1: an urgent mental health safety flag."""
    return submit(patient, responses={"phq9": {"q9": 1}})


StaffFor = Callable[..., Client]


@pytest.fixture
def staff_for(db: Any) -> StaffFor:
    """staff_for(role, clinic) → a test client logged in as a new staff user with that role."""

    def make(role: str, clinic: Clinic, **user_fields: Any) -> Client:
        user = UserFactory(**user_fields)
        MembershipFactory(user=user, clinic=clinic, role=role)
        client = Client()
        client.force_login(user)
        client.user = user  # type: ignore[attr-defined]
        return client

    return make
