"""Bad input always gets a 4xx RFC 9457 body naming the problem, never a 500."""

from __future__ import annotations

import pytest
from django.test import override_settings

from intake.models import Patient

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def _assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("/problems/")
    assert body["title"] and body["detail"]
    return body


def test_malformed_json_is_400(api):
    body = _assert_problem(api.post("/api/v1/patients/", "{not json", content_type="application/json"), 400)
    assert body["type"] == "/problems/parse-error"


def test_wrong_content_type_is_415(api):
    response = api.post(
        "/api/v1/patients/", "family_name=A", content_type="application/x-www-form-urlencoded"
    )
    _assert_problem(response, 415)


def test_json_array_instead_of_object_is_400(api):
    body = _assert_problem(api.post("/api/v1/patients/", "[]", content_type="application/json"), 400)
    assert body["errors"][0]["code"] == "invalid"


@pytest.mark.parametrize("value", [12, True, None, ["A"], {"a": 1}])
def test_wrong_type_is_400_naming_the_field(api, value):
    response = api.post(
        "/api/v1/patients/",
        {"family_name": value, "given_name": "B", "birth_date": "1980-01-01"},
    )
    body = _assert_problem(response, 400)
    assert body["errors"][0]["path"] == "family_name"


def test_overlong_string_is_400(api):
    response = api.post(
        "/api/v1/patients/", {"family_name": "x" * 101, "given_name": "B", "birth_date": "1980-01-01"}
    )
    assert _assert_problem(response, 400)["errors"][0]["code"] == "max_length"


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_oversized_body_is_413_and_nothing_stored(api):
    big = '{"family_name": "' + "x" * 2000 + '", "given_name": "B", "birth_date": "1980-01-01"}'
    _assert_problem(api.post("/api/v1/patients/", big, content_type="application/json"), 413)
    assert not Patient.objects.exists()


def test_ten_megabyte_body_is_413(api):
    big = '{"family_name": "' + "x" * (10 * 1024 * 1024) + '"}'
    _assert_problem(api.post("/api/v1/patients/", big, content_type="application/json"), 413)


def test_deeply_nested_json_is_a_4xx_not_a_crash(api):
    deep = "[" * 1000 + "]" * 1000
    response = api.post("/api/v1/patients/", deep, content_type="application/json")
    assert 400 <= response.status_code < 500


def test_unknown_api_route_is_404_problem(api):
    _assert_problem(api.get("/api/v1/no-such-thing/"), 404)


def test_method_not_allowed_is_405_problem(api):
    _assert_problem(api.delete("/api/v1/patients/"), 405)


def test_database_failure_becomes_503_problem(api, monkeypatch):
    from django.db import OperationalError

    import intake.api.views as views

    def broken(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(views, "patient_queryset", broken)
    body = _assert_problem(api.get("/api/v1/patients/"), 503)
    assert body["type"] == "/problems/database-unavailable"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_json_numbers_are_a_parse_error(api, literal):
    body = '{"family_name": "A", "given_name": "B", "birth_date": "1980-01-01", "x": ' + literal + "}"
    response = api.post("/api/v1/patients/", body, content_type="application/json")
    assert _assert_problem(response, 400)["type"] == "/problems/parse-error"
