"""The referral-flag worklist and its transitions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers as drf
from rest_framework.test import APIClient

from intake.api.serializers import FlagDetailSerializer, FlagSerializer
from intake.models import FlagStatus, OutboxEvent, ReferralFlag
from intake.selectors.intakes import flag_queryset
from tests.builders import STARTBACK_MEDIUM, initial_intake
from tests.factories import ClinicFactory, IdentifierFactory, MembershipFactory, PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def raise_flags(api, clinic):
    """Submit an intake for a new patient; returns its flags by kind."""
    counter = iter(range(1000))

    def submit(**changes) -> dict[str, dict]:
        patient = PatientFactory(clinic=clinic)
        mrn = {"system": "urn:flags", "value": f"F{next(counter)}"}
        IdentifierFactory(patient=patient, **mrn)
        body = api.post(
            "/api/v1/intakes/", initial_intake({"identifier": mrn}, **changes), format="json"
        ).json()
        return {flag["kind"]: flag for flag in body["flags"]}

    return submit


def worklist(api, **params) -> list[tuple[str, str]]:
    return [(f["kind"], f["priority"]) for f in api.get("/api/v1/flags/", params).json()["results"]]


def test_worklist_is_ordered_by_urgency_then_due_time(api, raise_flags):
    raise_flags(responses={"startback": STARTBACK_MEDIUM})
    raise_flags(responses={"phq9": {"q9": 1}})
    raise_flags(responses={"red_flags": {"saddle_anaesthesia": True}})
    assert worklist(api) == [
        ("suspected_cauda_equina", "emergency"),
        ("mental_health_safety", "urgent"),
        ("physiotherapy", "routine"),
    ]


def test_due_time_breaks_ties_within_a_priority(api, raise_flags):
    later = raise_flags(responses={"red_flags": {"fever": True}})["urgent_medical_review"]
    sooner = raise_flags(responses={"phq9": {"q9": 1}})["mental_health_safety"]
    ReferralFlag.objects.filter(pk=sooner["id"]).update(due_at=timezone.now() + timedelta(hours=1))
    ids = [f["id"] for f in api.get("/api/v1/flags/").json()["results"]]
    assert ids == [sooner["id"], later["id"]]


def test_filters_by_status_priority_kind_and_overdue(api, raise_flags):
    raise_flags(responses={"startback": STARTBACK_MEDIUM, "phq9": {"q9": 1}})
    overdue = ReferralFlag.objects.get(kind="mental_health_safety")
    ReferralFlag.objects.filter(pk=overdue.pk).update(due_at=timezone.now() - timedelta(minutes=5))
    assert worklist(api, priority="routine") == [("physiotherapy", "routine")]
    assert worklist(api, kind="physiotherapy") == [("physiotherapy", "routine")]
    assert worklist(api, overdue="true") == [("mental_health_safety", "urgent")]
    assert api.get("/api/v1/flags/", {"overdue": "true"}).json()["results"][0]["is_overdue"] is True
    assert worklist(api, status="closed") == []


def test_acknowledge_start_close_with_etags(api, raise_flags):
    flag = raise_flags(responses={"phq9": {"q9": 1}})["mental_health_safety"]
    url = f"/api/v1/flags/{flag['id']}"
    read = api.get(f"{url}/")
    assert read["ETag"] == '"1"'
    acked = api.post(f"{url}/acknowledge/", {}, format="json", HTTP_IF_MATCH=read["ETag"])
    assert acked.status_code == 200
    assert acked.json()["status"] == "acknowledged"
    assert acked["ETag"] == '"2"'
    assert api.post(f"{url}/start/", {}, format="json", HTTP_IF_MATCH='"2"').json()["status"] == "in_progress"
    closed = api.post(f"{url}/close/", {"note": "Safety plan agreed"}, format="json").json()
    assert closed["status"] == "closed"
    assert closed["status_reason"] == "Safety plan agreed"
    assert [e["action"] for e in closed["events"]] == ["raised", "acknowledge", "start", "close"]
    assert OutboxEvent.objects.filter(event_type="flag.updated").count() == 3


def test_stale_if_match_is_412_and_changes_nothing(api, raise_flags):
    flag = raise_flags(responses={"phq9": {"q9": 1}})["mental_health_safety"]
    url = f"/api/v1/flags/{flag['id']}"
    api.post(f"{url}/acknowledge/", {}, format="json")
    response = api.post(f"{url}/start/", {}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 412
    assert ReferralFlag.objects.get(pk=flag["id"]).status == FlagStatus.ACKNOWLEDGED


def test_conditional_get_returns_304_when_unchanged(api, raise_flags):
    flag = raise_flags(responses={"phq9": {"q9": 1}})["mental_health_safety"]
    response = api.get(f"/api/v1/flags/{flag['id']}/", HTTP_IF_NONE_MATCH='"1"')
    assert response.status_code == 304


def test_illegal_transition_is_409(api, raise_flags):
    flag = raise_flags(responses={"phq9": {"q9": 1}})["mental_health_safety"]
    response = api.post(f"/api/v1/flags/{flag['id']}/close/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["type"] == "/problems/illegal-transition"
    assert ReferralFlag.objects.get(pk=flag["id"]).status == FlagStatus.OPEN


def test_dismiss_requires_a_reason(api, raise_flags):
    flag = raise_flags(responses={"phq9": {"q9": 1}})["mental_health_safety"]
    url = f"/api/v1/flags/{flag['id']}/dismiss/"
    assert api.post(url, {}, format="json").json()["errors"][0]["path"] == "reason"
    dismissed = api.post(url, {"reason": "Known to crisis team"}, format="json").json()
    assert dismissed["status"] == "dismissed"


def test_assign_to_a_coordinator_of_the_clinic(api, clinic, raise_flags):
    coordinator = MembershipFactory(clinic=clinic, role="coordinator").user
    flag = raise_flags(responses={"phq9": {"q9": 1}})["mental_health_safety"]
    response = api.post(f"/api/v1/flags/{flag['id']}/assign/", {"assignee": coordinator.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["assignee"] == coordinator.pk
    assert worklist(api, assignee=str(coordinator.pk)) == [("mental_health_safety", "urgent")]
    assert worklist(api, assignee="none") == []


@pytest.mark.parametrize("who", ["reception_here", "coordinator_elsewhere"])
def test_assignee_must_be_a_care_role_of_this_clinic(api, clinic, raise_flags, who):
    membership = (
        MembershipFactory(clinic=clinic, role="reception")
        if who == "reception_here"
        else MembershipFactory(clinic=ClinicFactory(), role="coordinator")
    )
    flag = raise_flags(responses={"phq9": {"q9": 1}})["mental_health_safety"]
    response = api.post(
        f"/api/v1/flags/{flag['id']}/assign/", {"assignee": membership.user.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "assignee"


def test_staff_assign_to_themselves_and_filter_by_me(clinic, raise_flags):
    coordinator = MembershipFactory(clinic=clinic, role="coordinator").user
    flag = raise_flags(responses={"phq9": {"q9": 1}})["mental_health_safety"]
    staff = APIClient()
    staff.force_login(coordinator)
    assert (
        staff.post(f"/api/v1/flags/{flag['id']}/assign/", {}, format="json").json()["assignee"]
        == coordinator.pk
    )
    assert [f["id"] for f in staff.get("/api/v1/flags/", {"assignee": "me"}).json()["results"]] == [
        flag["id"]
    ]


def test_reception_cannot_work_flags(clinic, raise_flags):
    flag = raise_flags(responses={"phq9": {"q9": 1}})["mental_health_safety"]
    staff = APIClient()
    staff.force_login(MembershipFactory(clinic=clinic, role="reception").user)
    assert staff.get("/api/v1/flags/").status_code == 403
    assert staff.post(f"/api/v1/flags/{flag['id']}/acknowledge/", {}, format="json").status_code == 403


def test_other_clinics_flags_are_404_everywhere(api_for, raise_flags):
    flag = raise_flags(responses={"phq9": {"q9": 1}})["mental_health_safety"]
    stranger = api_for(ClinicFactory())
    assert stranger.get(f"/api/v1/flags/{flag['id']}/").status_code == 404
    for action in ("acknowledge", "start", "close", "assign"):
        assert stranger.post(f"/api/v1/flags/{flag['id']}/{action}/", {}, format="json").status_code == 404
    assert (
        stranger.post(f"/api/v1/flags/{flag['id']}/dismiss/", {"reason": "x"}, format="json").status_code
        == 404
    )
    assert stranger.get("/api/v1/flags/").json()["results"] == []
    assert ReferralFlag.objects.get(pk=flag["id"]).version == 1


def test_flag_documents_are_what_drfs_generic_serialiser_builds(api, clinic, raise_flags):
    """FlagSerializer builds its document directly (speed); it must match the declared fields."""
    coordinator = MembershipFactory(clinic=clinic, role="coordinator").user
    flags = raise_flags(responses={"phq9": {"q9": 1}, "red_flags": {"fever": True}})
    first, second = list(flags.values())[:2]
    api.post(f"/api/v1/flags/{first['id']}/assign/", {"assignee": coordinator.pk}, format="json")
    api.post(f"/api/v1/flags/{second['id']}/dismiss/", {"reason": "seen in clinic"}, format="json")
    ReferralFlag.objects.filter(pk=first["id"]).update(escalated_at=timezone.now() - timedelta(hours=1))

    rows = list(flag_queryset(clinic=clinic))
    assert len(rows) >= 2
    for row in rows:
        plain = ReferralFlag.objects.get(pk=row.pk)  # no annotation: the revision is read instead
        for serializer_class in (FlagSerializer, FlagDetailSerializer):
            generic = drf.ModelSerializer.to_representation(serializer_class(), plain)
            assert serializer_class(row).data == generic
            assert serializer_class(plain).data == generic
            assert list(serializer_class(row).data) == list(serializer_class.Meta.fields)
    assert {r.status for r in rows} >= {"open", "dismissed"} and any(r.assignee_id for r in rows)
    assert any(r.escalated_at for r in rows)
