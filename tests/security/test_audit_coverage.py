"""Every request to an audited prefix leaves at least one audit row, whatever its path or method.

The values of a row come from the request (path, method, ids from the URL), so they are bounded
and cleaned before the insert: an overlong id, a NUL or a lone surrogate must neither overflow a
column (a 503 on PostgreSQL) nor raise (a 500), and the refusals of the outer middleware (413,
400) are recorded like every other answer.
"""

from __future__ import annotations

import base64
import re
import uuid
from urllib.parse import quote, urlencode

import pytest
from django.db import DatabaseError
from django.http import HttpResponse
from django.test import RequestFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from intake.audit import AUDITED_PREFIXES, AuditMiddleware
from intake.models import AuditEvent
from tests.factories import IntegrationClientFactory, MembershipFactory

pytestmark = pytest.mark.django_db

LONG_PATIENT_ID = "a" * 70
LONG_RESULT_ID = "1" * 80


def _column_limit(name: str) -> int:
    limit = AuditEvent._meta.get_field(name).max_length
    assert limit is not None
    return limit


def _rows_of(response) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(request_id=response["X-Request-ID"]).order_by("pk"))


def _assert_fits(event: AuditEvent) -> None:
    for name in ("actor", "action", "object_type", "object_id", "method", "path", "request_id"):
        value = getattr(event, name)
        assert len(value) <= _column_limit(name), name
        assert "\x00" not in value, name


@pytest.mark.parametrize("authenticated", [False, True], ids=["anonymous", "token"])
@pytest.mark.parametrize(
    ("path", "object_type"),
    [
        (f"/api/v1/patients/{LONG_PATIENT_ID}/", "patient"),
        (f"/fhir/RiskAssessment/{LONG_RESULT_ID}", "fhir-riskassessment"),
    ],
    ids=["patient", "risk-assessment"],
)
def test_an_overlong_id_is_a_recorded_refusal_not_a_503(api, path, object_type, authenticated):
    # given
    client = api if authenticated else APIClient()
    # when
    response = client.get(path)
    # then
    assert response.status_code == (404 if authenticated else 401), response.content
    (event,) = _rows_of(response)
    assert (event.status_code, event.object_type) == (response.status_code, object_type)
    assert event.outcome == ("not_found" if authenticated else "denied")
    assert event.actor.startswith("client:") if authenticated else event.actor == "anonymous"
    _assert_fits(event)
    long_id = path.rstrip("/").rsplit("/", 1)[1]
    assert event.object_id.startswith(long_id[:32]) and event.object_id != long_id[:64]


def test_two_overlong_ids_sharing_a_prefix_stay_distinguishable(api):
    first = api.get(f"/api/v1/patients/{'b' * 100}1/")
    second = api.get(f"/api/v1/patients/{'b' * 100}2/")
    assert _rows_of(first)[0].object_id != _rows_of(second)[0].object_id


@pytest.mark.parametrize("authenticated", [False, True], ids=["anonymous", "token"])
@pytest.mark.parametrize("prefix", ["/api/v1/intakes/", "/fhir/QuestionnaireResponse", "/o/token/"])
def test_a_body_too_large_is_answered_413_and_recorded(api, prefix, authenticated):
    client = api if authenticated else APIClient()
    response = client.post(prefix, b"{}", content_type="application/json", CONTENT_LENGTH="999999999")
    assert response.status_code == 413
    (event,) = _rows_of(response)
    assert (event.status_code, event.outcome, event.method) == (413, "invalid", "POST")


def test_a_url_too_long_is_answered_414_and_recorded(api, settings):
    response = api.get(f"/api/v1/patients/{'a' * (settings.MAX_URL_LENGTH + 1)}/")
    assert response.status_code == 414
    (event,) = _rows_of(response)
    assert (event.status_code, event.outcome) == (414, "invalid")
    _assert_fits(event)


def test_too_many_headers_are_answered_431_and_recorded(api, settings):
    headers = {f"HTTP_X_FILLER_{i}": "1" for i in range(settings.MAX_REQUEST_HEADERS + 1)}
    response = api.get("/fhir/Questionnaire", **headers)
    assert response.status_code == 431
    (event,) = _rows_of(response)
    assert (event.status_code, event.outcome) == (431, "invalid")


def test_a_bad_content_length_is_answered_400_and_recorded(api):
    response = api.post("/api/v1/intakes/", b"{}", content_type="application/json", CONTENT_LENGTH="x")
    assert response.status_code == 400
    (event,) = _rows_of(response)
    assert (event.status_code, event.outcome) == (400, "invalid")


@pytest.mark.parametrize("credentials_in", ["form", "basic"])
def test_a_failed_token_request_is_recorded_with_the_client_id_it_claimed(credentials_in):
    # given
    client_id = IntegrationClientFactory().application.client_id
    form = {"grant_type": "client_credentials"}
    headers = {}
    if credentials_in == "form":
        form |= {"client_id": client_id, "client_secret": "wrong-secret"}
    else:
        basic = base64.b64encode(f"{client_id}:wrong-secret".encode()).decode()
        headers["HTTP_AUTHORIZATION"] = f"Basic {basic}"
    # when
    response = APIClient().post(
        "/o/token/", urlencode(form), content_type="application/x-www-form-urlencoded", **headers
    )
    # then
    assert response.json()["error"] == "invalid_client", response.content
    (event,) = _rows_of(response)
    assert (event.object_type, event.object_id) == ("oauth2_token", client_id)
    assert (event.status_code, event.outcome, event.actor) == (401, "denied", "anonymous")
    stored = " ".join(str(getattr(event, f.attname)) for f in AuditEvent._meta.concrete_fields)
    assert "wrong-secret" not in stored


def test_a_request_that_touched_nothing_is_still_recorded(api):
    response = api.get("/api/v1/instruments/")
    assert response.status_code == 200
    (event,) = _rows_of(response)
    assert (event.status_code, event.outcome, event.object_id) == (200, "success", "")


@pytest.mark.parametrize(
    "path",
    ["/api/v1/patients/\ud800\x00/", "/fhir/Patient/\udfff", "/admin/intake/patient/\x00\ud800/change/"],
)
def test_lone_surrogates_and_nul_in_a_decoded_path_do_not_break_the_insert(path):
    # given: a path as a server decoding percent-escapes leniently could hand over
    request = RequestFactory().get("/")
    request.path = request.path_info = path
    middleware = AuditMiddleware(lambda request: HttpResponse(status=404))
    # when
    response = middleware(request)
    # then
    assert response.status_code == 404
    (event,) = _rows_of(response)
    _assert_fits(event)
    event.path.encode("utf-8")  # storable as UTF-8: no surrogate left


# Path segments an attacker controls: printable text of any script, ids beyond every column, raw
# percent-escapes that decode to NUL, control characters, an encoded surrogate or invalid UTF-8.
segments = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=20).map(lambda s: quote(s, safe="")),
    st.text("0123456789abcdef-", min_size=60, max_size=400),
    st.sampled_from(["%00", "%0A", "%7F", "%ED%A0%80", "%FF", "%C0%AF", "..", "%2F", "\u00e9"]),
    st.sampled_from(["patients", "intakes", "flags", "Patient", "RiskAssessment", "token", "change"]),
)
# HTTP method tokens (RFC 9110 tchar), including ones longer than the method column.
methods = st.one_of(
    st.sampled_from(["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE"]),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~", min_size=1, max_size=24),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prefix=st.sampled_from(AUDITED_PREFIXES),
    parts=st.lists(segments, max_size=12),
    trailing_slash=st.booleans(),
    method=methods,
    who=st.sampled_from(["anonymous", "token", "staff"]),
)
def test_any_path_under_an_audited_prefix_is_answered_and_recorded(
    api, clinic, prefix, parts, trailing_slash, method, who
):
    # given
    if who == "token":
        client = api
    else:
        client = APIClient()
        if who == "staff":
            client.force_login(MembershipFactory(clinic=clinic, role="clinic_admin").user)
    path = prefix + "/".join(parts) + ("/" if trailing_slash and parts else "")
    request_id = uuid.uuid4().hex
    # when
    response = client.generic(method, path, HTTP_X_REQUEST_ID=request_id)
    # then
    assert response.status_code < 500, (path, method, response.content[:300])
    events = list(AuditEvent.objects.filter(request_id=request_id))
    assert events, (path, method, response.status_code)
    for event in events:
        assert event.status_code == response.status_code
        _assert_fits(event)


@pytest.mark.parametrize("supplied", ["trace-1\n", "x" * 65, "a b", "\x00", ""])
def test_a_request_id_that_is_not_one_is_replaced_not_echoed(api, supplied):
    response = api.get("/api/v1/instruments/", HTTP_X_REQUEST_ID=supplied)
    assert response.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    (event,) = _rows_of(response)
    assert event.request_id == response["X-Request-ID"]


def test_a_token_request_that_cannot_be_audited_gets_an_oauth_error(monkeypatch):
    # given
    client_id = IntegrationClientFactory().application.client_id

    def broken(*args, **kwargs):
        raise DatabaseError("audit table unavailable")

    monkeypatch.setattr(AuditEvent.objects, "bulk_create", broken)
    # when
    response = APIClient().post(
        "/o/token/",
        urlencode({"grant_type": "client_credentials", "client_id": client_id, "client_secret": "x"}),
        content_type="application/x-www-form-urlencoded",
    )
    # then
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert int(response["Retry-After"]) > 0
