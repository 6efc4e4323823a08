"""Subscription API: secret shown once, clinic isolation, scopes."""

from __future__ import annotations

import pytest

from intake.models import WebhookSubscription
from tests.delivery.support import subscribe

pytestmark = pytest.mark.django_db


def test_create_shows_the_secret_once(webhook_settings, api, receiver):
    created = subscribe(api, receiver.url, event_types=["flag.created"])
    assert created["secret"].startswith("whsec_")
    assert WebhookSubscription.objects.get().secret == created["secret"]
    listed = api.get("/api/v1/webhooks/").json()["results"]
    assert [s["id"] for s in listed] == [created["id"]] and "secret" not in listed[0]
    detail = api.get(f"/api/v1/webhooks/{created['id']}/").json()
    assert "secret" not in detail and detail["event_types"] == ["flag.created"]


def test_secret_and_clinic_cannot_be_set_by_the_caller(webhook_settings, api, receiver, other_clinic):
    for extra in ({"secret": "whsec_AAAA"}, {"clinic": other_clinic.pk}, {"id": "x"}):
        body = {"url": receiver.url, "event_types": ["flag.created"], **extra}
        assert api.post("/api/v1/webhooks/", body, format="json").status_code == 400


def test_update_and_delete(webhook_settings, api, receiver):
    created = subscribe(api, receiver.url)
    response = api.patch(f"/api/v1/webhooks/{created['id']}/", {"is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert api.delete(f"/api/v1/webhooks/{created['id']}/").status_code == 204
    assert not WebhookSubscription.objects.exists()


def test_other_clinics_subscriptions_and_deliveries_are_404(
    webhook_settings, api, api_for, other_clinic, receiver
):
    theirs = subscribe(api_for(other_clinic), receiver.url)
    for method, path in [
        ("get", f"/api/v1/webhooks/{theirs['id']}/"),
        ("patch", f"/api/v1/webhooks/{theirs['id']}/"),
        ("delete", f"/api/v1/webhooks/{theirs['id']}/"),
        ("get", f"/api/v1/webhooks/{theirs['id']}/deliveries/"),
    ]:
        assert getattr(api, method)(path, {}, format="json").status_code == 404, (method, path)
    assert api.get("/api/v1/webhooks/").json()["results"] == []


def test_reading_needs_flags_read_and_writing_flags_write(webhook_settings, api_for, clinic, receiver):
    reader = api_for(clinic, ["flags:read"])
    assert reader.get("/api/v1/webhooks/").status_code == 200
    body = {"url": receiver.url, "event_types": ["flag.created"]}
    assert reader.post("/api/v1/webhooks/", body, format="json").status_code == 403
    nobody = api_for(clinic, ["intakes:read", "intakes:write"])
    assert nobody.get("/api/v1/webhooks/").status_code == 403
    assert api_for(clinic, ["flags:write"]).post("/api/v1/webhooks/", body, format="json").status_code == 201


def test_anonymous_is_401(client):
    assert client.get("/api/v1/webhooks/").status_code == 401


def test_unknown_event_types_are_refused(webhook_settings, api, receiver):
    body = {"url": receiver.url, "event_types": ["patient.deleted"]}
    response = api.post("/api/v1/webhooks/", body, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["path"].startswith("event_types")
