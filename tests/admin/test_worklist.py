"""The coordinator worklist: order, overdue marking, filters, search, bulk actions, transitions."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from intake.models import FlagEvent, FlagStatus, ReferralFlag, Role
from tests.factories import IdentifierFactory, PatientFactory

from .conftest import submit

pytestmark = pytest.mark.django_db
WORKLIST = "/admin/intake/referralflag/"


@pytest.fixture
def flags(clinic: Any) -> dict[str, ReferralFlag]:
    """A routine, an urgent and an emergency flag, for three patients."""
    routine = submit(
        PatientFactory(clinic=clinic, family_name="Routine"),
        responses={"startback": {"q1": 1, "q2": 1, "q3": 1, "q4": 1}},
    )
    urgent_patient = PatientFactory(clinic=clinic, family_name="Urgent")
    IdentifierFactory(patient=urgent_patient, value="MRN-777")
    urgent = submit(urgent_patient, responses={"phq9": {"q9": 1}})
    emergency = submit(
        PatientFactory(clinic=clinic, family_name="Emergency"),
        responses={"red_flags": {"saddle_anaesthesia": True}},
    )
    return {
        "routine": routine.flags[0],
        "urgent": urgent.flags[0],
        "emergency": next(f for f in emergency.flags if f.kind == "suspected_cauda_equina"),
    }


def listed(client: Any, query: str = "") -> list[ReferralFlag]:
    response = client.get(WORKLIST + query)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_worklist_is_sorted_by_priority_then_due_time(staff_for: Any, clinic: Any, flags: Any) -> None:
    client = staff_for(Role.COORDINATOR, clinic)
    order = [flag.priority for flag in listed(client)]
    assert order == sorted(order, key=["emergency", "urgent", "routine"].index)
    assert order[0] == "emergency"


def test_overdue_rows_are_marked(staff_for: Any, clinic: Any, flags: Any) -> None:
    ReferralFlag.objects.filter(pk=flags["urgent"].pk).update(
        due_at=timezone.now() - datetime.timedelta(hours=2)
    )
    html = staff_for(Role.COORDINATOR, clinic).get(WORKLIST).content.decode()
    assert html.count('class="flag-overdue"') == 1
    assert "Overdue 2" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?priority=urgent", {"urgent"}),
        ("?kind=suspected_cauda_equina", {"emergency"}),
        ("?overdue=yes", {"urgent"}),
        ("?assignee=none", {"routine", "urgent"}),
        ("?assignee=me", {"emergency"}),
        ("?q=MRN-777", {"urgent"}),
        ("?q=Routine", {"routine"}),
    ],
)
def test_filters_and_search(staff_for: Any, clinic: Any, flags: Any, query: str, expected: set[str]) -> None:
    client = staff_for(Role.COORDINATOR, clinic)
    ReferralFlag.objects.filter(pk=flags["urgent"].pk).update(
        due_at=timezone.now() - datetime.timedelta(hours=2)
    )
    ReferralFlag.objects.filter(pk=flags["emergency"].pk).update(assignee=client.user)
    ids = {flag.pk for flag in listed(client, query)}
    other = ReferralFlag.objects.exclude(pk__in=[f.pk for f in flags.values()])
    assert ids - set(other.values_list("pk", flat=True)) == {flags[name].pk for name in expected}


def test_status_filter_defaults_to_active_flags(staff_for: Any, clinic: Any, flags: Any) -> None:
    ReferralFlag.objects.filter(pk=flags["routine"].pk).update(status=FlagStatus.CLOSED)
    client = staff_for(Role.COORDINATOR, clinic)
    assert flags["routine"].pk not in {f.pk for f in listed(client)}
    assert flags["routine"].pk in {f.pk for f in listed(client, "?status=all")}
    assert {f.pk for f in listed(client, "?status=closed")} == {flags["routine"].pk}


def test_bulk_acknowledge_reports_each_failure(staff_for: Any, clinic: Any, flags: Any) -> None:
    ReferralFlag.objects.filter(pk=flags["routine"].pk).update(status=FlagStatus.IN_PROGRESS)
    client = staff_for(Role.COORDINATOR, clinic)
    response = client.post(
        WORKLIST,
        {"action": "acknowledge_selected", "_selected_action": [str(f.pk) for f in flags.values()]},
        follow=True,
    )
    texts = [str(m) for m in response.context["messages"]]
    assert any("2 flag(s) acknowledged" in text for text in texts)
    assert any("Routine" in text and "Cannot acknowledge" in text for text in texts)
    statuses = dict(ReferralFlag.objects.values_list("pk", "status"))
    assert statuses[flags["urgent"].pk] == statuses[flags["emergency"].pk] == FlagStatus.ACKNOWLEDGED
    assert FlagEvent.objects.filter(action="acknowledge", actor=f"user:{client.user.pk}").count() == 2


def test_bulk_assign_to_me(staff_for: Any, clinic: Any, flags: Any) -> None:
    client = staff_for(Role.COORDINATOR, clinic)
    client.post(WORKLIST, {"action": "assign_selected_to_me", "_selected_action": [str(flags["urgent"].pk)]})
    assert ReferralFlag.objects.get(pk=flags["urgent"].pk).assignee_id == client.user.pk


def test_flag_page_shows_reasons_evidence_and_scores(staff_for: Any, clinic: Any, flags: Any) -> None:
    response = staff_for(Role.COORDINATOR, clinic).get(
        reverse("admin:intake_referralflag_change", args=[flags["urgent"].pk])
    )
    html = response.content.decode()
    assert "urgent.phq9_q9_ge_1" in html
    assert 'id="score-phq9"' in html
    for action in ("_acknowledge", "_start", "_assign", "_dismiss"):
        assert f'name="{action}"' in html
    assert 'name="_close"' not in html  # close needs acknowledged or in progress


def transition(client: Any, flag: ReferralFlag, **data: Any) -> Any:
    url = reverse("admin:intake_referralflag_transition", args=[flag.pk])
    return client.post(url, data, follow=True)


def test_transition_buttons_go_through_the_service(staff_for: Any, clinic: Any, flags: Any) -> None:
    client = staff_for(Role.COORDINATOR, clinic)
    flag = flags["urgent"]
    transition(client, flag, action="acknowledge", version=flag.version)
    transition(client, flag, action="start", version=flag.version + 1)
    transition(client, flag, action="close", version=flag.version + 2, note="Seen by GP")
    flag.refresh_from_db()
    assert (flag.status, flag.status_reason) == (FlagStatus.CLOSED, "Seen by GP")
    assert list(flag.events.values_list("action", flat=True)) == ["raised", "acknowledge", "start", "close"]


def test_stale_version_and_missing_reason_are_reported(staff_for: Any, clinic: Any, flags: Any) -> None:
    client = staff_for(Role.COORDINATOR, clinic)
    flag = flags["urgent"]
    stale = transition(client, flag, action="acknowledge", version=flag.version + 5)
    assert any("changed since you read it" in str(m) for m in stale.context["messages"])
    no_reason = transition(client, flag, action="dismiss", version=flag.version, note=" ")
    assert any("reason is required" in str(m) for m in no_reason.context["messages"])
    assert ReferralFlag.objects.get(pk=flag.pk).status == FlagStatus.OPEN


@pytest.mark.parametrize("field", ["version", "assignee"])
def test_a_transition_with_non_ascii_digits_is_no_server_error(
    staff_for: Any, clinic: Any, flags: Any, field: str
) -> None:
    client = staff_for(Role.COORDINATOR, clinic)
    flag = flags["urgent"]
    data = {"version": flag.version, field: "\u00b2"}  # "²".isdigit() is True, int("²") raises
    response = transition(client, flag, action="assign", **data)
    assert response.status_code == 200


def test_reception_cannot_transition_flags(staff_for: Any, clinic: Any, flags: Any) -> None:
    client = staff_for(Role.RECEPTION, clinic)
    url = reverse("admin:intake_referralflag_transition", args=[flags["urgent"].pk])
    assert client.post(url, {"action": "acknowledge"}).status_code in (302, 403)
    assert ReferralFlag.objects.get(pk=flags["urgent"].pk).status == FlagStatus.OPEN


def test_assign_to_a_colleague(staff_for: Any, clinic: Any, flags: Any) -> None:
    colleague = staff_for(Role.CLINICIAN, clinic).user
    client = staff_for(Role.COORDINATOR, clinic)
    transition(client, flags["urgent"], action="assign", assignee=colleague.pk)
    assert ReferralFlag.objects.get(pk=flags["urgent"].pk).assignee_id == colleague.pk


@pytest.mark.parametrize("raw", ["%C2%B2", "%D9%A3", "99999999999", "-1"])
def test_assignee_filter_of_other_digits_lists_without_error(
    staff_for: Any, clinic: Any, flags: Any, raw: str
) -> None:
    client = staff_for(Role.COORDINATOR, clinic)
    assert len(listed(client, f"?assignee={raw}")) == 3


def test_transition_with_a_version_in_other_digits_changes_nothing(
    staff_for: Any, clinic: Any, flags: Any
) -> None:
    client = staff_for(Role.COORDINATOR, clinic)
    flag = flags["urgent"]
    for version, assignee in [("²", ""), ("1", "٣"), ("99999999999", "")]:
        response = transition(client, flag, action="assign", version=version, assignee=assignee)
        assert response.status_code == 200
        assert "reload and retry" in response.content.decode()
    flag.refresh_from_db()
    assert (flag.status, flag.assignee_id, flag.version) == (FlagStatus.OPEN, None, 1)
