"""Query parameters: numbers read strictly, unreadable characters refused, filters never dropped.

Every refusal is a 400 naming the parameter (problem details; an OperationOutcome under /fhir/).
"""

from __future__ import annotations

import pytest
from django.test import Client

from intake.api.query import INT32_MAX, ascii_integer, query_string_errors
from intake.models import AuditEvent
from intake.services.webhooks import subscription_create
from tests.builders import initial_intake
from tests.factories import IdentifierFactory, PatientFactory

pytestmark = pytest.mark.django_db

LISTS = ["/api/v1/patients/", "/api/v1/intakes/", "/api/v1/flags/"]


def error_paths(response) -> list[str]:
    return [error["path"] for error in response.json()["errors"]]


@pytest.fixture
def intake(api, clinic) -> dict:
    """One submitted intake (with a mental-health flag) of a patient of `clinic`."""
    patient = PatientFactory(clinic=clinic)
    IdentifierFactory(patient=patient, system="urn:q", value="Q-1")
    body = initial_intake({"identifier": {"system": "urn:q", "value": "Q-1"}}, responses={"phq9": {"q9": 1}})
    response = api.post("/api/v1/intakes/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def subscription(clinic, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["93.184.215.14"]  # an IP literal: no DNS look-up in tests
    return subscription_create(clinic=clinic, url="https://93.184.215.14/hook", event_types=["flag.created"])


# --- the strict integer parser ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("0042", 42),
        (str(INT32_MAX), INT32_MAX),
        (str(INT32_MAX + 1), None),
        ("0", None),
        ("", None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1 ", None),
        ("1_0", None),
        ("²", None),  # superscript two: str.isdigit() is True, int() raises
        ("٣", None),  # Arabic-Indic three: int() reads it as 3
        ("１", None),  # full-width one
        ("9" * 400, None),
    ],
)
def test_ascii_integer_accepts_only_ascii_digits_in_range(text, expected):
    assert ascii_integer(text, minimum=1, maximum=INT32_MAX) == expected


# --- item 7: non-ASCII digits -------------------------------------------------------------------


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("raw", ["%C2%B2", "%D9%A3", "0", "201", "-1", "99999999999999999999", "2.0"])
def test_page_size_that_is_not_a_whole_number_in_range_is_400_naming_it(api, url, raw):
    response = api.get(f"{url}?page_size={raw}")
    assert response.status_code == 400, response.content
    assert error_paths(response) == ["page_size"]


def test_page_size_given_twice_is_400(api):
    response = api.get("/api/v1/patients/?page_size=2&page_size=3")
    assert response.status_code == 400
    assert error_paths(response) == ["page_size"]


@pytest.mark.parametrize("raw", ["%C2%B2", "%D9%A3", "abc", "-1", "0", "99999999999"])
def test_revision_that_is_not_a_whole_number_is_400_naming_it(api, intake, raw):
    response = api.get(f"/api/v1/intakes/{intake['id']}/?revision={raw}")
    assert response.status_code == 400, response.content
    assert error_paths(response) == ["revision"]


def test_revision_number_still_selects_a_revision_and_a_missing_one_is_404(api, intake):
    assert api.get(f"/api/v1/intakes/{intake['id']}/?revision=1").json()["revision"] == 1
    assert api.get(f"/api/v1/intakes/{intake['id']}/?revision=2").status_code == 404


@pytest.mark.parametrize("raw", ["%C2%B2", "%D9%A3", "-1", "99999999999", "12abc"])
def test_assignee_that_is_not_a_user_id_me_or_none_is_400_naming_it(api, intake, raw):
    response = api.get(f"/api/v1/flags/?assignee={raw}")
    assert response.status_code == 400, response.content
    assert error_paths(response) == ["assignee"]


def test_if_match_with_a_non_ascii_digit_is_refused_naming_it(api, intake):
    flag = intake["flags"][0]
    response = api.post(f"/api/v1/flags/{flag['id']}/acknowledge/", HTTP_IF_MATCH='"²"')
    assert response.status_code == 412, response.content
    assert error_paths(response) == ["If-Match"]


# --- item 9: characters no parameter may hold ---------------------------------------------------


def test_nul_in_the_delivery_status_filter_is_400_naming_it(api, subscription):
    response = api.get(f"/api/v1/webhooks/{subscription.pk}/deliveries/?status=%00")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert error_paths(response) == ["status"]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("family=%00", "family"),
        ("family=a%01b", "family"),
        ("name=%7F", "name"),
        ("name=%C2%85", "name"),  # NEL, a C1 control
        ("identifier=%ED%A0%80", "identifier"),  # a lone surrogate, as UTF-8 would encode it
        ("identifier=%FF", "identifier"),  # not UTF-8 at all
        ("given=a%E2%80%8Bb", "given"),  # zero-width space
        ("given=%E2%80%AE", "given"),  # right-to-left override
        ("given=%E2%80%A8", "given"),  # line separator
        ("given=%EF%BF%BF", "given"),  # noncharacter U+FFFF
        ("cursor=%00", "cursor"),
        ("page_size=1%00", "page_size"),
        ("cache_buster=%00", "cache_buster"),  # unknown parameters may be sent, not with NUL
        ("fa%00mily=x", "fa\\u0000mily"),  # the name itself: escaped when echoed
    ],
)
def test_unreadable_characters_in_any_parameter_are_400_naming_it(api, query, named):
    response = api.get(f"/api/v1/patients/?{query}")
    assert response.status_code == 400, response.content
    assert error_paths(response) == [named]


def test_unreadable_characters_on_a_fhir_search_are_an_operation_outcome(api, clinic):
    patient = PatientFactory(clinic=clinic)
    response = api.get(f"/fhir/Observation?subject=Patient/{patient.pk}&code=%00")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/fhir+json"
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["diagnostics"].startswith("code: ")


def test_unreadable_characters_are_refused_before_authentication_is_needed():
    response = Client().get("/api/v1/patients/?family=%00")
    assert response.status_code == 400
    assert error_paths(response) == ["family"]


def test_a_refused_query_string_is_audited(api):
    api.get("/api/v1/patients/?family=%00")
    assert AuditEvent.objects.filter(path="/api/v1/patients/", status_code=400).count() == 1


def test_text_in_other_scripts_and_cache_busters_are_accepted(api, clinic):
    patient = PatientFactory(clinic=clinic, family_name="Ünal")
    response = api.get("/api/v1/patients/?family=%C3%9Cnal&_=1733140000")
    assert response.status_code == 200, response.content
    assert [p["id"] for p in response.json()["results"]] == [str(patient.pk)]


def test_query_string_errors_reads_bytes_strictly():
    assert query_string_errors(b"a=1&b=%C3%A9&c=+x&&d", max_fields=10) == []
    assert [e.parameter for e in query_string_errors(b"a=%00&b=%ED%A0%80&c=ok", max_fields=10)] == [
        "a",
        "b",
    ]
    assert [e.parameter for e in query_string_errors(b"a=1&" * 11, max_fields=10)] == [""]


# --- item 16: a filter given a value it cannot use is a 400, never dropped -------------------------


@pytest.mark.parametrize(
    ("url", "query", "named"),
    [
        ("/api/v1/patients/", "active=maybe", "active"),
        ("/api/v1/patients/", "active=", "active"),
        ("/api/v1/patients/", "family=", "family"),
        ("/api/v1/patients/", "name=%20%20", "name"),
        ("/api/v1/patients/", "identifier=", "identifier"),
        ("/api/v1/patients/", "identifier=%7CMRN-1", "identifier"),  # "|MRN-1"
        ("/api/v1/patients/", "identifier=urn:x%7C", "identifier"),  # "urn:x|"
        ("/api/v1/patients/", "birth_date=", "birth_date"),
        ("/api/v1/patients/", "family=a&family=b", "family"),
        ("/api/v1/intakes/", "patient=", "patient"),
        ("/api/v1/intakes/", "patient=not-a-uuid", "patient"),
        ("/api/v1/intakes/", "form=", "form"),
        ("/api/v1/intakes/", "completed_after=", "completed_after"),
        (
            "/api/v1/intakes/",
            "patient=4f1d6c1e-7c1b-4a8e-9a51-5d6f3f1f0a01&patient=4f1d6c1e-7c1b-4a8e-9a51-5d6f3f1f0a02",
            "patient",
        ),
        ("/api/v1/flags/", "patient=", "patient"),
        ("/api/v1/flags/", "intake=", "intake"),
        ("/api/v1/flags/", "overdue=maybe", "overdue"),
        ("/api/v1/flags/", "status=", "status"),
        ("/api/v1/flags/", "status=open&status=", "status"),
        ("/api/v1/flags/", "status=sleeping", "status"),
        ("/api/v1/flags/", "assignee=", "assignee"),
        ("/api/v1/flags/", "kind=", "kind"),
    ],
)
def test_invalid_or_empty_filter_value_is_400_naming_it(api, intake, url, query, named):
    response = api.get(f"{url}?{query}")
    assert response.status_code == 400, response.content
    assert error_paths(response) == [named]


def test_active_filter_reads_true_and_false(api, clinic):
    active = PatientFactory(clinic=clinic)
    inactive = PatientFactory(clinic=clinic, is_active=False)
    for raw, expected in [("true", active), ("True", active), ("1", active), ("false", inactive)]:
        found = [p["id"] for p in api.get(f"/api/v1/patients/?active={raw}").json()["results"]]
        assert found == [str(expected.pk)], raw


def test_repeatable_filters_may_repeat(api, intake):
    response = api.get("/api/v1/flags/?status=open&status=acknowledged&priority=urgent")
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == 1


def test_unknown_delivery_status_is_400_and_a_known_one_filters(api, subscription):
    refused = api.get(f"/api/v1/webhooks/{subscription.pk}/deliveries/?status=lost")
    assert refused.status_code == 400
    assert error_paths(refused) == ["status"]
    assert api.get(f"/api/v1/webhooks/{subscription.pk}/deliveries/?status=").status_code == 400
    assert api.get(f"/api/v1/webhooks/{subscription.pk}/deliveries/?status=dead").status_code == 200


@pytest.mark.parametrize("query", ["code=", "code=44261-6&code=phq9", "subject=&code=phq9"])
def test_fhir_observation_search_refuses_empty_and_repeated_values(api, clinic, query):
    patient = PatientFactory(clinic=clinic)
    subject = "" if query.startswith("subject=") else f"subject=Patient/{patient.pk}&"
    response = api.get(f"/fhir/Observation?{subject}{query}")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    named = query.split("=")[0]
    assert body["issue"][0]["diagnostics"].startswith(f"{named}: ")


def test_fhir_subject_given_twice_is_400(api, clinic):
    patient = PatientFactory(clinic=clinic)
    response = api.get(f"/fhir/Observation?subject=Patient/{patient.pk}&subject=Patient/{patient.pk}")
    assert response.status_code == 400
    assert response.json()["issue"][0]["diagnostics"].startswith("subject: ")
