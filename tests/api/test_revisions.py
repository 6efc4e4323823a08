"""Corrections: raw answers are never edited; each correction is a new, re-scored revision."""

from __future__ import annotations

import pytest

from intake.models import FlagStatus, ImmutableRowError, IntakeRevision, OutboxEvent, ReferralFlag
from tests.builders import STARTBACK_MEDIUM, initial_intake
from tests.factories import IdentifierFactory, PatientFactory

pytestmark = pytest.mark.django_db

MRN = {"system": "urn:test:mrn", "value": "REV-1"}


@pytest.fixture
def intake(api, clinic):
    patient = PatientFactory(clinic=clinic)
    IdentifierFactory(patient=patient, **MRN)
    body = initial_intake({"identifier": MRN}, responses={"phq9": {"q9": 1}, "startback": STARTBACK_MEDIUM})
    response = api.post("/api/v1/intakes/", body, format="json")
    assert response.status_code == 201
    return response.json()


def revise(api, intake, reason="transcription error", **changes):
    body = initial_intake({"identifier": MRN}, **changes)
    del body["patient"]
    body["reason"] = reason
    return api.post(f"/api/v1/intakes/{intake['id']}/revisions/", body, format="json")


def test_correction_adds_revision_2_and_leaves_revision_1_as_it_was(api, intake):
    response = revise(api, intake, responses={"phq9": {"q9": 0}, "startback": STARTBACK_MEDIUM})
    assert response.status_code == 201, response.json()
    assert response.json()["revision"] == 2
    first, second = IntakeRevision.objects.order_by("number")
    assert first.responses["phq9"]["q9"] == 1
    assert second.responses["phq9"]["q9"] == 0
    assert second.reason == "transcription error"
    old = api.get(f"/api/v1/intakes/{intake['id']}/", {"revision": 1}).json()
    assert old["scores"]["phq9"]["flags"] == ["suicidal_ideation"]
    history = api.get(f"/api/v1/intakes/{intake['id']}/revisions/").json()
    assert [r["number"] for r in history] == [1, 2]


def test_flag_no_longer_supported_is_superseded_with_history(api, intake):
    revise(api, intake, responses={"phq9": {"q9": 0}, "startback": STARTBACK_MEDIUM})
    flag = ReferralFlag.objects.get(kind="mental_health_safety")
    assert flag.status == FlagStatus.SUPERSEDED
    assert "Revision 2" in flag.status_reason
    assert [e.action for e in flag.events.order_by("at", "pk")] == ["raised", "superseded"]
    assert ReferralFlag.objects.get(kind="physiotherapy").status == FlagStatus.OPEN  # still supported
    assert OutboxEvent.objects.filter(event_type="flag.updated").count() == 1


def test_higher_item9_reprioritises_the_safety_flag_to_emergency(api, intake):
    revise(api, intake, responses={"phq9": {"q9": 2}, "startback": STARTBACK_MEDIUM})
    flag = ReferralFlag.objects.get(kind="mental_health_safety")
    assert flag.priority == "emergency"
    assert flag.version == 2
    assert flag.events.last().action == "reprioritised"


def test_superseded_flag_reopens_when_a_later_revision_supports_it_again(api, intake):
    revise(api, intake, responses={"phq9": {"q9": 0}, "startback": STARTBACK_MEDIUM})
    revise(api, intake, responses={"phq9": {"q9": 1}, "startback": STARTBACK_MEDIUM})
    flag = ReferralFlag.objects.get(kind="mental_health_safety")
    assert flag.status == FlagStatus.OPEN
    assert [e.action for e in flag.events.order_by("at", "pk")] == ["raised", "superseded", "reopened"]


def test_new_kind_in_a_correction_raises_a_new_flag(api, intake):
    revise(
        api,
        intake,
        responses={"phq9": {"q9": 1}, "startback": STARTBACK_MEDIUM, "red_flags": {"fever": True}},
    )
    assert ReferralFlag.objects.filter(kind="urgent_medical_review", status=FlagStatus.OPEN).exists()


def test_handled_flags_stay_handled(api, intake):
    flag = ReferralFlag.objects.get(kind="mental_health_safety")
    api.post(f"/api/v1/flags/{flag.pk}/dismiss/", {"reason": "Spoke to patient"}, format="json")
    revise(api, intake, responses={"phq9": {"q9": 0}, "startback": STARTBACK_MEDIUM})
    flag.refresh_from_db()
    assert flag.status == FlagStatus.DISMISSED


def test_correction_needs_a_reason_and_keeps_the_form(api, intake):
    assert revise(api, intake, reason="").json()["errors"][0]["path"] == "reason"
    response = revise(api, intake, form="lbp-followup")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "form"


def test_invalid_correction_writes_nothing(api, intake):
    response = revise(api, intake, responses={"gad7": {"q1": 5}})
    assert response.status_code == 400
    assert IntakeRevision.objects.count() == 1


def test_revisions_cannot_be_edited_or_deleted_through_the_orm(intake):
    revision = IntakeRevision.objects.get()
    revision.responses = {"phq9": {}}
    with pytest.raises(ImmutableRowError):
        revision.save()
    with pytest.raises(ImmutableRowError):
        revision.delete()


def test_revision_history_is_the_plain_list_the_openapi_document_describes(api, intake):
    # The document described a cursor page ({next, previous, results}) filtered like the intake
    # list; clients have always received a plain list, oldest first, and keep doing so.
    from tests.openapi_document import assert_conforms

    revise(api, intake, responses={"phq9": {"q9": 0}, "startback": STARTBACK_MEDIUM})
    response = api.get(f"/api/v1/intakes/{intake['id']}/revisions/", {"patient": "not-a-filter-here"})
    assert response.status_code == 200, response.content
    assert [revision["number"] for revision in response.json()] == [1, 2]
    assert_conforms("GET", "/api/v1/intakes/{id}/revisions/", response)
