"""OAuth 2.0 client credentials: obtaining, using, expiring and scoping tokens."""

from __future__ import annotations

import base64
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from oauth2_provider.models import get_application_model
from rest_framework.test import APIClient

from intake.models import IntegrationClient
from intake.services.integrations import integration_client_create
from tests.conftest import issue_token
from tests.factories import IntegrationClientFactory, MembershipFactory, PatientFactory

pytestmark = pytest.mark.django_db


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _token(client_id: str, secret: str, **extra: str):
    return APIClient().post(
        "/o/token/",
        {"grant_type": "client_credentials", **extra},
        format="multipart",
        HTTP_AUTHORIZATION=_basic(client_id, secret),
    )


def test_client_credentials_token_is_issued_and_grants_api_access(clinic):
    client, secret = integration_client_create(clinic=clinic, name="EHR", scopes=["patients:read"])
    response = _token(client.application.client_id, secret)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0
    assert body["scope"] == "patients:read"

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert api.get("/api/v1/patients/").status_code == 200


def test_wrong_secret_gets_no_token(clinic):
    client, _ = integration_client_create(clinic=clinic, name="EHR", scopes=["patients:read"])
    response = _token(client.application.client_id, "not-the-secret")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_client_cannot_obtain_a_scope_it_was_not_granted(clinic):
    client, secret = integration_client_create(clinic=clinic, name="EHR", scopes=["patients:read"])
    response = _token(client.application.client_id, secret, scope="patients:read flags:write")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_secret_is_stored_hashed(clinic):
    client, secret = integration_client_create(clinic=clinic, name="EHR", scopes=["patients:read"])
    stored = get_application_model().objects.get(pk=client.application.pk).client_secret
    assert secret not in stored
    assert stored.startswith("pbkdf2_") or "$" in stored


def test_no_token_is_401_with_bearer_challenge():
    response = APIClient().get("/api/v1/patients/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response["Content-Type"] == "application/problem+json"


def test_expired_token_is_401(clinic):
    integration = IntegrationClientFactory(clinic=clinic, scopes=["patients:read"])
    token = issue_token(integration, ["patients:read"], expires_in=timedelta(seconds=-1))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/patients/").status_code == 401


def test_revoked_token_is_401(clinic):
    client, secret = integration_client_create(clinic=clinic, name="EHR", scopes=["patients:read"])
    access = _token(client.application.client_id, secret).json()["access_token"]
    revoke = APIClient().post(
        "/o/revoke_token/",
        {"token": access},
        format="multipart",
        HTTP_AUTHORIZATION=_basic(client.application.client_id, secret),
    )
    assert revoke.status_code == 200
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert api.get("/api/v1/patients/").status_code == 401


def test_malformed_token_is_401():
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-real-token")
    assert api.get("/api/v1/patients/").status_code == 401


def test_read_scope_cannot_write_403(api_for, clinic):
    api = api_for(clinic, ["patients:read"])
    response = api.post(
        "/api/v1/patients/",
        {"family_name": "A", "given_name": "B", "birth_date": "1980-01-01"},
    )
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


def test_token_scope_beyond_client_grant_is_ignored(clinic):
    # A token row carrying a scope its client no longer holds must not grant it.
    integration = IntegrationClientFactory(clinic=clinic, scopes=["patients:read"])
    token = issue_token(integration, ["patients:read", "patients:write"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api.post(
        "/api/v1/patients/", {"family_name": "A", "given_name": "B", "birth_date": "1980-01-01"}
    )
    assert response.status_code == 403


def test_token_of_inactive_clinic_is_refused(api_for, clinic):
    api = api_for(clinic, ["patients:read"])
    clinic.is_active = False
    clinic.save()
    assert api.get("/api/v1/patients/").status_code == 403


def test_staff_session_sees_own_clinic(clinic, other_clinic):
    membership = MembershipFactory(clinic=clinic)
    mine = PatientFactory(clinic=clinic)
    PatientFactory(clinic=other_clinic)
    api = APIClient()
    api.force_login(membership.user)
    ids = [p["id"] for p in api.get("/api/v1/patients/").json()["results"]]
    assert ids == [str(mine.id)]


def test_staff_in_two_clinics_must_name_one(clinic, other_clinic):
    membership = MembershipFactory(clinic=clinic)
    MembershipFactory(clinic=other_clinic, user=membership.user)
    theirs = PatientFactory(clinic=other_clinic)
    api = APIClient()
    api.force_login(membership.user)
    response = api.get("/api/v1/patients/")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "X-Clinic"
    chosen = api.get("/api/v1/patients/", HTTP_X_CLINIC=other_clinic.slug)
    assert [p["id"] for p in chosen.json()["results"]] == [str(theirs.id)]


def test_staff_without_membership_is_403():
    from tests.factories import UserFactory

    api = APIClient()
    api.force_login(UserFactory())
    assert api.get("/api/v1/patients/").status_code == 403


def test_coordinator_role_cannot_write_patients(clinic):
    membership = MembershipFactory(clinic=clinic, role="coordinator")
    api = APIClient()
    api.force_login(membership.user)
    assert api.get("/api/v1/patients/").status_code == 200
    response = api.post(
        "/api/v1/patients/", {"family_name": "A", "given_name": "B", "birth_date": "1980-01-01"}
    )
    assert response.status_code == 403


def test_create_integration_command_prints_credentials_once(clinic):
    out, err = StringIO(), StringIO()
    call_command(
        "create_integration",
        "--clinic",
        clinic.slug,
        "--scopes",
        "patients:read",
        "intakes:write",
        stdout=out,
        stderr=err,
    )
    lines = dict(line.split("=", 1) for line in out.getvalue().splitlines())
    client = IntegrationClient.objects.get(application__client_id=lines["client_id"])
    assert client.clinic == clinic
    assert client.scopes == ["patients:read", "intakes:write"]
    assert _token(lines["client_id"], lines["client_secret"]).status_code == 200
    assert "cannot be shown again" in err.getvalue()


def test_create_integration_rejects_unknown_scope(clinic):
    with pytest.raises(CommandError, match="unknown scopes: patients:delete"):
        call_command(
            "create_integration", "--clinic", clinic.slug, "--scopes", "patients:delete", stdout=StringIO()
        )


def test_create_integration_rejects_unknown_clinic():
    with pytest.raises(CommandError, match="No clinic"):
        call_command(
            "create_integration", "--clinic", "nowhere", "--scopes", "patients:read", stdout=StringIO()
        )


def test_a_bearer_token_is_resolved_to_client_and_clinic_in_one_query(api_for, clinic):
    api = api_for(clinic, ["patients:read"])
    api.get("/api/v1/instruments/")  # warm: content types, caches
    with CaptureQueriesContext(connection) as captured:
        response = api.get("/api/v1/instruments/")
    assert response.status_code == 200
    sql = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    auth = [
        s for s in sql if "oauth2_provider" in s or "intake_integrationclient" in s or "intake_clinic" in s
    ]
    assert len(auth) == 1, auth
    assert "intake_integrationclient" in auth[0] and "intake_clinic" in auth[0]
