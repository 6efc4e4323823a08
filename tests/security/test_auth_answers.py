"""What a refused caller is told: a 401 says whether credentials were missing or how the bearer
token failed; a 403 names the scopes the operation needs. Problem details on /api/, an
OperationOutcome on /fhir/, and the RFC 6750 challenge in WWW-Authenticate on both."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from intake.services.integrations import integration_client_create
from tests.conftest import issue_token
from tests.factories import IntegrationClientFactory, MembershipFactory
from tests.records import fill
from tests.security.test_authorization_matrix import (
    ADMIN_ONLY,
    SCOPE_FREE,
    call,
    endpoints,
    world,  # noqa: F401 - a fixture
)

pytestmark = pytest.mark.django_db

PROBLEM_TYPE_SYSTEM = "/CodeSystem/problem-type"


def bearer(value: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {value}")
    return api


def problem_type(response) -> str:
    """The machine-readable problem code of a problem document or an OperationOutcome."""
    body = response.json()
    if body.get("resourceType") == "OperationOutcome":
        assert response["Content-Type"] == "application/fhir+json"
        (issue,) = body["issue"]
        (coding,) = issue["details"]["coding"]
        assert coding["system"].endswith(PROBLEM_TYPE_SYSTEM)
        return coding["code"]
    assert response["Content-Type"] == "application/problem+json"
    return body["type"].removeprefix("/problems/")


def detail(response) -> str:
    body = response.json()
    if body.get("resourceType") == "OperationOutcome":
        return body["issue"][0]["details"]["text"]
    return body["detail"]


def challenge(response) -> dict[str, str]:
    """The WWW-Authenticate Bearer challenge's parameters."""
    scheme, _, params = response["WWW-Authenticate"].partition(" ")
    assert scheme == "Bearer"
    return dict(re.findall(r'(\w+)="([^"]*)"', params))


@pytest.mark.parametrize("path", ["/api/v1/patients/", "/fhir/Questionnaire/phq9"])
def test_no_credentials_is_401_saying_so_with_a_bare_challenge(path):
    response = APIClient().get(path)
    assert response.status_code == 401
    assert problem_type(response) == "not-authenticated"
    assert "Bearer" in detail(response)
    assert challenge(response) == {"realm": "api"}  # RFC 6750 §3.1: no error code without a token


@pytest.mark.parametrize("path", ["/api/v1/patients/", "/fhir/Questionnaire/phq9"])
@pytest.mark.parametrize("token", ["garbage", "not-a-real-token", "ąż", "x" * 300])
def test_an_unknown_token_is_401_invalid_token(path, token):
    response = bearer(token).get(path)
    assert response.status_code == 401
    assert problem_type(response) == "invalid-token"
    assert "not valid" in detail(response)
    assert "not provided" not in detail(response)
    assert challenge(response)["error"] == "invalid_token"


@pytest.mark.parametrize("path", ["/api/v1/patients/", "/fhir/Questionnaire/phq9"])
def test_an_expired_token_is_401_token_expired(clinic, path):
    integration = IntegrationClientFactory(clinic=clinic, scopes=["patients:read"])
    token = issue_token(integration, ["patients:read"], expires_in=timedelta(seconds=-1))
    response = bearer(token).get(path)
    assert response.status_code == 401
    assert problem_type(response) == "token-expired"
    assert "expired" in detail(response)
    params = challenge(response)
    assert params["error"] == "invalid_token"
    assert "expired" in params["error_description"]


def test_a_revoked_token_reads_as_invalid(clinic):
    client, secret = integration_client_create(clinic=clinic, name="EHR", scopes=["patients:read"])
    basic = "Basic " + base64.b64encode(f"{client.application.client_id}:{secret}".encode()).decode()
    access = (
        APIClient()
        .post("/o/token/", {"grant_type": "client_credentials"}, format="multipart", HTTP_AUTHORIZATION=basic)
        .json()["access_token"]
    )
    assert bearer(access).get("/api/v1/patients/").status_code == 200
    APIClient().post("/o/revoke_token/", {"token": access}, format="multipart", HTTP_AUTHORIZATION=basic)
    response = bearer(access).get("/api/v1/patients/")
    assert response.status_code == 401
    assert problem_type(response) == "invalid-token"


def test_credentials_in_another_scheme_are_named_as_no_bearer_token():
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"id:secret").decode())
    response = api.get("/api/v1/patients/")
    assert response.status_code == 401
    assert problem_type(response) == "not-authenticated"
    assert "no Bearer token" in detail(response)


def test_every_endpoint_names_the_scopes_it_needs_and_those_scopes_suffice(world, api_for, clinic):  # noqa: F811
    scopeless = api_for(clinic, [])
    checked = 0
    for path, method in endpoints():
        if path in SCOPE_FREE or path in ADMIN_ONLY:
            continue
        url, query = fill(path, world["ids"]), world["query"].get(path)
        response = call(scopeless, method, url, query)
        assert response.status_code == 403, (method, path)
        assert problem_type(response) == "insufficient-scope", (method, path)
        if path.startswith("/fhir/"):
            required = response.json()["issue"][0]["diagnostics"].removeprefix("required scopes: ").split()
        else:
            required = response.json()["required_scopes"]
        assert required, (method, path)
        assert all(scope in detail(response) for scope in required), (method, path)
        params = challenge(response)
        assert params["error"] == "insufficient_scope"
        assert params["scope"].split() == required
        # Exactly the named scopes get past authorization.
        assert call(api_for(clinic, required), method, url, query).status_code != 403, (
            method,
            path,
            required,
        )
        checked += 1
    assert checked >= 25


def test_a_staff_role_without_the_scope_is_told_which_one_without_a_bearer_challenge(clinic):
    membership = MembershipFactory(clinic=clinic, role="coordinator")
    api = APIClient()
    api.force_login(membership.user)
    response = api.post(
        "/api/v1/patients/",
        {"family_name": "A", "given_name": "B", "birth_date": "1980-01-01"},
        format="json",
    )
    assert response.status_code == 403
    body = response.json()
    assert body["type"] == "/problems/insufficient-scope"
    assert body["required_scopes"] == ["patients:write"]
    assert "role" in body["detail"] and "patients:write" in body["detail"]
    assert "WWW-Authenticate" not in response


def test_a_token_of_an_inactive_clinic_is_told_so(api_for, clinic):
    api = api_for(clinic, ["patients:read"])
    clinic.is_active = False
    clinic.save()
    response = api.get("/api/v1/patients/")
    assert response.status_code == 403
    assert response.json()["type"] == "/problems/no-clinic"
