"""Errors Django answers itself (oversized requests, unknown routes, crashes) are problem
documents, or FHIR OperationOutcomes under /fhir/; gunicorn's own HTML pages are left only for
requests beyond its caps (gunicorn.conf.py), which sit above Django's limits."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from tests.live_gunicorn import ROOT, gunicorn

PROBLEM = "application/problem+json"
FHIR = "application/fhir+json"


def _outcome(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == FHIR
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"] and all(issue["severity"] == "error" for issue in body["issue"])
    return body


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["type"].startswith("/problems/")
    return body


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_fhir_body_over_the_limit_is_413_operation_outcome(api):
    body = '{"resourceType": "QuestionnaireResponse", "note": "' + "x" * 2000 + '"}'
    response = api.post("/fhir/QuestionnaireResponse", body, content_type=FHIR)
    assert _outcome(response, 413)["issue"][0]["code"] == "too-long"


@pytest.mark.django_db
def test_fhir_unparsable_content_length_is_400_operation_outcome(api):
    response = api.post("/fhir/QuestionnaireResponse", "{}", content_type=FHIR, CONTENT_LENGTH="ten")
    assert _outcome(response, 400)["issue"][0]["code"] == "invalid"


@pytest.mark.django_db
def test_fhir_request_django_refuses_is_400_operation_outcome(api):
    # A SuspiciousOperation (here a Host not in ALLOWED_HOSTS) goes to handler400.
    response = api.get("/fhir/Questionnaire", HTTP_HOST="evil.example")
    _outcome(response, 400)


@pytest.mark.django_db
def test_fhir_unknown_route_is_404_operation_outcome(api):
    _outcome(api.get("/fhir/NoSuchResource/1"), 404)


@pytest.mark.django_db
def test_fhir_method_not_allowed_is_405_operation_outcome(api):
    _outcome(api.delete("/fhir/Questionnaire"), 405)


@pytest.mark.django_db
def test_fhir_server_error_is_500_operation_outcome(api, monkeypatch):
    import intake.api.fhir_http as fhir_http

    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(fhir_http, "all_instruments", crash)
    client = APIClient(raise_request_exception=False)
    client.credentials(**api._credentials)
    body = _outcome(client.get("/fhir/Questionnaire"), 500)
    assert body["issue"][0]["code"] == "exception"


@pytest.mark.django_db
def test_api_server_error_is_still_a_problem_document(api, monkeypatch):
    import intake.api.views as views

    def crash(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "patient_queryset", crash)
    client = APIClient(raise_request_exception=False)
    client.credentials(**api._credentials)
    _problem(client.get("/api/v1/patients/"), 500)


@pytest.mark.django_db
@pytest.mark.parametrize("prefix", ["/api/v1/patients/", "/fhir/Questionnaire"])
def test_url_over_the_limit_is_414(api, settings, prefix):
    url = f"{prefix}?q=" + "a" * settings.MAX_URL_LENGTH
    response = api.get(url)
    if prefix.startswith("/fhir/"):
        assert _outcome(response, 414)["issue"][0]["code"] == "too-long"
    else:
        assert _problem(response, 414)["type"] == "/problems/uri-too-long"


@pytest.mark.django_db
def test_url_at_the_limit_is_served(api, settings):
    prefix = "/api/v1/patients/?family_name="
    response = api.get(prefix + "a" * (settings.MAX_URL_LENGTH - len(prefix)))
    assert response.status_code == 200, response.content


@pytest.mark.django_db
def test_too_many_headers_is_431(api, settings):
    extra = {f"HTTP_X_EXTRA_{i}": "1" for i in range(settings.MAX_REQUEST_HEADERS + 1)}
    body = _problem(api.get("/api/v1/patients/", **extra), 431)
    assert "header fields" in body["detail"]


@pytest.mark.django_db
def test_oversized_header_is_431_naming_it(api, settings):
    body = _problem(api.get("/api/v1/patients/", HTTP_X_PADDING="a" * (settings.MAX_HEADER_BYTES + 1)), 431)
    assert "X-Padding" in body["detail"]


# --- Through gunicorn, configured as deployed.


@pytest.fixture(scope="module")
def served():
    with tempfile.TemporaryDirectory(prefix="clinic-limits-") as directory:
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "FAIL_ON_SKIP")}
        env.update(
            DATABASE_URL=f"sqlite:///{Path(directory) / 'db.sqlite3'}",
            DEBUG="false",
            SECRET_KEY=uuid.uuid4().hex * 2,
            ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="false",
            DJANGO_SETTINGS_MODULE="clinic_service.settings",
        )
        manage = [sys.executable, "manage.py", "migrate", "--noinput", "-v0"]
        subprocess.run(manage, cwd=ROOT, env=env, check=True, timeout=240)
        with gunicorn(env) as (base, _):
            yield base.removeprefix("http://")


def _raw_get(host: str, target: str, headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection(host, timeout=30)
    try:
        connection.putrequest("GET", target, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        connection.close()


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("target", "headers", "status", "content_type"),
    [
        # gunicorn's default request line limit (4094) answered these with its HTML 414.
        ("/api/v1/patients/?q=" + "a" * 5000, {}, 414, PROBLEM),
        ("/fhir/Questionnaire?q=" + "a" * 5000, {}, 414, FHIR),
        # gunicorn's default 100 header fields / 8190 bytes each answered these with HTML 400.
        ("/api/v1/patients/", {f"X-Extra-{i}": "1" for i in range(150)}, 431, PROBLEM),
        ("/api/v1/patients/", {"X-Padding": "a" * 10_000}, 431, PROBLEM),
    ],
    ids=["long-url", "long-fhir-url", "many-headers", "large-header"],
)
def test_oversized_requests_are_answered_by_django_through_gunicorn(
    served, target, headers, status, content_type
):
    got, media, _ = _raw_get(served, target, headers)
    assert (got, media) == (status, content_type)


@pytest.mark.timeout(300)
def test_beyond_gunicorns_caps_gunicorn_answers_itself(served):
    # Documented (README, "Limits gunicorn enforces itself"): a request line over 8190 bytes
    # never reaches Django.
    got, media, _ = _raw_get(served, "/api/v1/patients/?q=" + "a" * 9000)
    assert got == 414 and media.startswith("text/html")
