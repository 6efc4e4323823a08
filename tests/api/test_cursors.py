"""Cursors are opaque and signed: only one this API issued, for this list, is read.

Forged, tampered and borrowed cursors are a 400 naming `cursor`; issued ones still page every
ordering (date-time, and the worklist's priority with ties) forwards and back.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.utils import timezone

from intake.api.pagination import cursor_signer
from intake.models import Patient, ReferralFlag
from tests.builders import initial_intake
from tests.factories import IdentifierFactory, PatientFactory

pytestmark = pytest.mark.django_db


def forged(querystring: str) -> str:
    """A cursor as DRF's own encoding would carry it: base64 of `o=…&r=…&p=…`."""
    return base64.b64encode(querystring.encode()).decode()


def assert_cursor_refused(response) -> None:
    assert response.status_code == 400, response.content
    assert [error["path"] for error in response.json()["errors"]] == ["cursor"]


def cursor_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["cursor"][0]


def walk(api, url: str, direction: str = "next") -> tuple[list[list[str]], str]:
    """The ids of each page from `url` on, following `direction` links; and the last page's URL."""
    pages: list[list[str]] = []
    last = url
    while url:
        assert len(pages) < 100, "the links never reach the end of the list"
        response = api.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append([row["id"] for row in body["results"]])
        last, url = url, body[direction]
    return pages, last


def flatten(pages: list[list[str]]) -> list[str]:
    return [row for page in pages for row in page]


@pytest.fixture
def flags(api, clinic) -> list[str]:
    """Seven flags, several sharing a priority (the worklist's cursor position): ids."""
    ids = []
    for n in range(7):
        patient = PatientFactory(clinic=clinic)
        IdentifierFactory(patient=patient, system="urn:c", value=f"C-{n}")
        answers = {"phq9": {"q9": 1}} if n % 2 else {"red_flags": {"fever": True}}
        body = initial_intake({"identifier": {"system": "urn:c", "value": f"C-{n}"}}, responses=answers)
        response = api.post("/api/v1/intakes/", body, format="json")
        assert response.status_code == 201, response.content
        ids += [flag["id"] for flag in response.json()["flags"]]
    return ids


@pytest.mark.parametrize("url", ["/api/v1/patients/", "/api/v1/intakes/", "/api/v1/flags/"])
@pytest.mark.parametrize(
    "cursor",
    [
        "cD1nYXJiYWdl",  # base64 of p=garbage: reached the database as a date-time (500)
        forged(urlencode({"p": "2026-01-01 00:00:00+00:00"})),  # well-formed, but not ours
        forged("o=5&r=1"),
        forged("o=99999999999999999999"),
        "%C2%B2",
        "not base64!",
        "a.b",
        "",
    ],
)
def test_a_cursor_this_api_did_not_issue_is_400_naming_it(api, clinic, url, cursor):
    PatientFactory(clinic=clinic)
    assert_cursor_refused(api.get(f"{url}?cursor={cursor}"))


def test_a_forged_cursor_with_an_offset_postgresql_refuses_is_400(api, clinic):
    # Python accepts offsets up to ±23:59, PostgreSQL ±15:59 (InvalidTimeZoneDisplacementValue).
    PatientFactory(clinic=clinic)
    cursor = forged(urlencode({"p": "2026-01-01 00:00:00+17:58"}))
    assert_cursor_refused(api.get(f"/api/v1/patients/?cursor={cursor}"))


@pytest.mark.parametrize(
    "fields",
    [
        {"k": ["2999-01-01T00:00:00+17:58", "00000000-0000-0000-0000-000000000000"], "r": False},
        {"k": ["2999-01-01 00:00:00+00:00", "00000000-0000-0000-0000-000000000000"], "r": False},
        {"k": ["2999-01-01T00:00:00", "00000000-0000-0000-0000-000000000000"], "r": False},
        {"k": ["garbage", "00000000-0000-0000-0000-000000000000"], "r": False},
        {"k": ["2999-01-01T00:00:00+00:00", "garbage"], "r": False},
        {"k": ["2999-01-01T00:00:00+00:00", 7], "r": False},
        {"k": ["2999-01-01T00:00:00+00:00"], "r": False},
        {"k": ["2999-01-01T00:00:00+00:00", "00000000-0000-0000-0000-000000000000"], "r": 0},
        {"k": None, "r": False},
        ["2999-01-01T00:00:00+00:00"],
    ],
)
def test_a_signed_cursor_holding_values_this_api_never_writes_is_400(api, clinic, fields):
    # given: cursors signed with the right key (a future bug, or a leaked key) but not as written
    PatientFactory(clinic=clinic)
    signer = cursor_signer("/api/v1/patients/", ("-created_at", "-pk"))
    # when, then
    assert_cursor_refused(api.get(f"/api/v1/patients/?cursor={signer.sign_object(fields)}"))


def test_a_signed_cursor_as_written_is_read(api, clinic):
    patient = PatientFactory(clinic=clinic)
    signer = cursor_signer("/api/v1/patients/", ("-created_at", "-pk"))
    fields = {"k": ["2999-01-01T00:00:00+00:00", "00000000-0000-0000-0000-000000000000"], "r": False}
    response = api.get(f"/api/v1/patients/?cursor={signer.sign_object(fields)}")
    assert response.status_code == 200, response.content
    assert [p["id"] for p in response.json()["results"]] == [str(patient.pk)]


def test_a_tampered_cursor_is_400(api, clinic):
    for _ in range(3):
        PatientFactory(clinic=clinic)
    token = cursor_of(api.get("/api/v1/patients/?page_size=1").json()["next"])
    payload, signature = token.split(".")
    changed = base64.urlsafe_b64encode(b'{"o":0,"r":true,"p":null}').decode().rstrip("=")
    assert_cursor_refused(api.get(f"/api/v1/patients/?cursor={changed}.{signature}"))
    assert_cursor_refused(api.get(f"/api/v1/patients/?cursor={payload}.{signature[:-1]}x"))
    assert api.get(f"/api/v1/patients/?cursor={token}").status_code == 200


def test_a_cursor_is_refused_by_another_list(api, clinic, flags):
    patients_next = api.get("/api/v1/patients/?page_size=1").json()["next"]
    flags_next = api.get("/api/v1/flags/?page_size=1").json()["next"]
    assert_cursor_refused(api.get(f"/api/v1/flags/?cursor={cursor_of(patients_next)}"))
    assert_cursor_refused(api.get(f"/api/v1/patients/?cursor={cursor_of(flags_next)}"))
    assert_cursor_refused(api.get(f"/api/v1/intakes/?cursor={cursor_of(patients_next)}"))


def test_cursors_are_opaque_and_url_safe(api, clinic):
    for _ in range(3):
        PatientFactory(clinic=clinic)
    next_url = api.get("/api/v1/patients/?page_size=1").json()["next"]
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", cursor_of(next_url))
    assert "cursor=" in next_url and "%" not in next_url


def test_patients_with_one_created_at_page_once_each_forwards_and_back(api, clinic):
    # given: one created_at for all, so only the key's last field (the id) tells rows apart
    created = {str(PatientFactory(clinic=clinic).pk) for _ in range(7)}
    Patient.objects.update(created_at=datetime(2026, 11, 1, 9, 0, tzinfo=UTC))
    # when
    forwards, last = walk(api, "/api/v1/patients/?page_size=2")
    backwards, _ = walk(api, last, "previous")
    # then
    assert [len(page) for page in forwards] == [2, 2, 2, 1]
    assert sorted(flatten(forwards)) == sorted(created)
    assert backwards == forwards[::-1]


def test_worklist_pages_by_priority_due_time_and_id_forwards_and_back(api, flags):
    # given: equal due times, and seven flags over two priorities
    ReferralFlag.objects.update(due_at=timezone.now())
    whole = [f["id"] for f in api.get("/api/v1/flags/?page_size=200").json()["results"]]
    # when
    forwards, last = walk(api, "/api/v1/flags/?page_size=2")
    backwards, _ = walk(api, last, "previous")
    # then
    assert flatten(forwards) == whole
    assert sorted(whole) == sorted(flags)
    assert backwards == forwards[::-1]


def test_a_page_turned_while_rows_are_inserted_shows_each_old_row_once(api, clinic):
    # given: a first page read, then new patients registered (newest first: they sort before it)
    old = {str(PatientFactory(clinic=clinic).pk) for _ in range(5)}
    first = api.get("/api/v1/patients/?page_size=2").json()
    for _ in range(3):
        PatientFactory(clinic=clinic)
    # when
    rest, _ = walk(api, first["next"])
    # then
    seen = [p["id"] for p in first["results"]] + flatten(rest)
    assert sorted(seen) == sorted(old)


def test_previous_of_the_second_page_is_the_first(api, clinic):
    for _ in range(5):
        PatientFactory(clinic=clinic)
    first = api.get("/api/v1/patients/?page_size=2").json()
    second = api.get(first["next"]).json()
    back = api.get(second["previous"]).json()
    assert back["results"] == first["results"]
    assert back["previous"] is None


def test_a_worklist_of_more_than_a_thousand_flags_of_one_priority_pages_to_its_end(api, flags):
    # given: 1,200 urgent flags (DRF's cursor positioned on priority_rank plus an offset capped
    # at 1,000, so its pages stopped moving there), in two due times
    template = ReferralFlag.objects.get(pk=flags[1])
    due = [timezone.now(), timezone.now() + timedelta(hours=1)]
    ReferralFlag.objects.bulk_create(
        ReferralFlag(
            clinic_id=template.clinic_id,
            patient_id=template.patient_id,
            intake_id=template.intake_id,
            revision_id=template.revision_id,
            stratification_id=template.stratification_id,
            kind=f"bulk_{n}",
            priority=template.priority,
            priority_rank=template.priority_rank,
            due_at=due[n % 2],
            reasons=[],
        )
        for n in range(1200)
    )
    total = ReferralFlag.objects.count()
    # when
    forwards, last = walk(api, "/api/v1/flags/?page_size=200")
    backwards, _ = walk(api, last, "previous")
    # then
    seen = flatten(forwards)
    assert len(seen) == len(set(seen)) == total
    assert backwards == forwards[::-1]
