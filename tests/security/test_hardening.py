"""Rate limits, staff login lockout, security headers and the patient export."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from fhir.resources.R4B.bundle import Bundle

from intake.models import AuditEvent
from tests.builders import initial_intake
from tests.factories import ClinicFactory, IdentifierFactory, MembershipFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _clock_mid_window(monkeypatch):
    """Limits count per fixed window: keep the tests away from a window boundary."""
    import types

    import intake.api.throttling as throttling

    monkeypatch.setattr(throttling, "time", types.SimpleNamespace(time=lambda: 1_800_000_030.0))


def _rates(client: str = "1000/min", user: str = "1000/min"):
    from django.conf import settings

    return override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"client": client, "user": user}}
    )


def test_integration_client_over_its_rate_gets_429_with_retry_after(api):
    with _rates(client="3/min"):
        statuses = [api.get("/api/v1/patients/").status_code for _ in range(4)]
        response = api.get("/api/v1/patients/")
    assert statuses == [200, 200, 200, 429]
    assert int(response["Retry-After"]) > 0
    assert response.json()["type"] == "/problems/throttled"


def test_each_client_has_its_own_bucket(api, api_for, clinic):
    other = api_for(clinic)
    with _rates(client="2/min"):
        api.get("/api/v1/patients/")
        api.get("/api/v1/patients/")
        assert api.get("/api/v1/patients/").status_code == 429
        assert other.get("/api/v1/patients/").status_code == 200


def test_staff_users_are_limited_per_user(clinic):
    from rest_framework.test import APIClient

    staff = APIClient()
    staff.force_login(MembershipFactory(clinic=clinic).user)
    with _rates(user="1/min"):
        assert staff.get("/api/v1/patients/").status_code == 200
        assert staff.get("/api/v1/patients/").status_code == 429


def test_with_the_cache_down_requests_are_served_unthrottled(api, monkeypatch, caplog):
    import intake.api.throttling as throttling

    def cache_down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(throttling.cache, "add", cache_down)
    with _rates(client="1/min"):
        statuses = [api.get("/api/v1/patients/").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert "rate limit not checked" in caplog.text


def test_admin_login_locks_out_after_repeated_failures():
    user = UserFactory(username="nurse", is_staff=True)
    browser = Client()
    for _ in range(5):
        browser.post("/admin/login/?next=/admin/", {"username": "nurse", "password": "wrong"})
    locked = browser.post(
        "/admin/login/?next=/admin/", {"username": "nurse", "password": "correct-horse-battery"}
    )
    assert locked.status_code == 429
    assert "_auth_user_id" not in browser.session
    assert user.username == "nurse"


def test_admin_login_works_before_the_limit():
    UserFactory(username="clerk", is_staff=True)
    browser = Client()
    browser.post("/admin/login/?next=/admin/", {"username": "clerk", "password": "wrong"})
    response = browser.post(
        "/admin/login/?next=/admin/", {"username": "clerk", "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert "_auth_user_id" in browser.session


def test_admin_pages_carry_a_content_security_policy():
    response = Client().get("/admin/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Content-Type-Options"] == "nosniff"


def test_patient_export_holds_everything_and_is_audited_once(api, clinic):
    patient = PatientFactory(clinic=clinic)
    IdentifierFactory(patient=patient, system="urn:x", value="EXP-1")
    created = api.post(
        "/api/v1/intakes/",
        initial_intake({"identifier": {"system": "urn:x", "value": "EXP-1"}}, responses={"phq9": {"q9": 1}}),
        format="json",
    ).json()
    correction = initial_intake({"identifier": {"system": "urn:x", "value": "EXP-1"}})
    del correction["patient"]
    correction["reason"] = "typo"
    api.post(f"/api/v1/intakes/{created['id']}/revisions/", correction, format="json")
    before = AuditEvent.objects.count()
    response = api.get(f"/api/v1/patients/{patient.id}/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    bundle = response.json()
    Bundle.model_validate(bundle)
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert kinds.count("Patient") == 1
    assert kinds.count("QuestionnaireResponse") == 18  # 9 instruments × 2 revisions
    assert kinds.count("Observation") == 18
    assert kinds.count("RiskAssessment") == 2
    assert kinds.count("Flag") == 1  # mental_health_safety, superseded by the correction but kept
    statuses = {
        e["resource"]["status"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "QuestionnaireResponse"
    }
    assert statuses == {"completed", "amended"}
    events = list(AuditEvent.objects.order_by("pk")[before:])
    assert [(e.action, e.object_type, e.patient_id) for e in events] == [("export", "patient", patient.pk)]


def test_export_needs_both_patient_and_intake_read_scopes(api_for, clinic):
    patient = PatientFactory(clinic=clinic)
    assert api_for(clinic, ["patients:read"]).get(f"/api/v1/patients/{patient.id}/export/").status_code == 403
    assert (
        api_for(clinic, ["patients:read", "intakes:read"])
        .get(f"/api/v1/patients/{patient.id}/export/")
        .status_code
        == 200
    )
    assert api_for(ClinicFactory()).get(f"/api/v1/patients/{patient.id}/export/").status_code == 404
