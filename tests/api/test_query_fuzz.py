"""Whatever query string arrives, every GET endpoint of /api/v1/ and /fhir/ answers without a 5xx,
and a 400 names a parameter that was sent.

Endpoints and their parameters come from the OpenAPI schema, so a new endpoint or parameter is
fuzzed without editing this file (a path needing a sample object fails until `world` has one).
Values: arbitrary text (unpaired surrogates included, percent-encoded as UTF-8 would encode
them), raw bytes, digits of other scripts, NUL, huge and negative numbers, forged DRF-style
cursors and real cursors of other lists. Reproduce a failure with the seed pytest prints
(`--hypothesis-seed=N`) or the `@reproduce_failure` blob.
"""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, quote_from_bytes, urlsplit

import pytest
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from tests.factories import MembershipFactory, PatientFactory
from tests.records import fill, records_of_every_kind

pytestmark = pytest.mark.django_db

PREFIXES = ("/api/v1/", "/fhir/")


def get_operations() -> dict[str, list[dict]]:
    """Every GET path of /api/v1/ and /fhir/ with the query parameters it documents."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        path: [p for p in operations["get"].get("parameters", []) if p["in"] == "query"]
        for path, operations in schema["paths"].items()
        if path.startswith(PREFIXES) and "get" in operations
    }


OPERATIONS = get_operations()


def parameter_names(path: str, *, required_only: bool = False) -> list[str]:
    return [p["name"] for p in OPERATIONS[path] if p.get("required") or not required_only]


OTHER_SCRIPT_DIGITS = ["²", "٣", "１", "߂", "𝟘", "Ⅻ", "③"]


def forged_cursor(querystring: str) -> str:
    return base64.b64encode(querystring.encode("utf-8", "surrogatepass")).decode()


def encoded(text: str | bytes) -> str:
    raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    return quote_from_bytes(raw, safe="")


any_text = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, categories=None), max_size=16)
numbers = st.integers(-(10**30), 10**30).map(str)
forged = st.one_of(
    any_text.map(forged_cursor),
    st.builds(
        lambda o, r, p: forged_cursor(f"o={o}&r={r}&p={p}"),
        numbers,
        st.sampled_from(["0", "1", "x"]),
        st.sampled_from(["garbage", "2026-01-01 00:00:00+17:58", "2026-01-01 00:00:00+00:00", "1", "²"]),
    ),
)


def values(world: dict) -> st.SearchStrategy[str | bytes]:
    samples = [
        *OTHER_SCRIPT_DIGITS,
        *world["samples"],
        "\x00",
        "",
        " ",
        "true",
        "false",
        "maybe",
        "me",
        "none",
        "open",
        "dead",
        "urgent",
        "phq9",
        "44261-6",
        "2026-11-20",
        "2026-11-20T09:30:00+17:58",
    ]
    return st.one_of(
        st.sampled_from(samples),
        any_text,
        st.binary(max_size=8),
        numbers,
        forged,
        st.sampled_from(world["cursors"]),
        st.lists(st.sampled_from(samples), min_size=2, max_size=3).map("".join),
    )


@pytest.fixture
def world(api, clinic, settings) -> dict:
    """One of everything in `clinic`; a clinic administrator's session (every scope, and the audit
    trail); sample values; and real cursors of every paginated list."""
    responses = {"phq9": {"q9": 1}, "red_flags": {"fever": True}}  # two flags
    ids, patient, intake = records_of_every_kind(
        api, clinic, settings, mrn=("urn:f", "F-1"), responses=responses
    )
    for _ in range(2):
        PatientFactory(clinic=clinic)
    admin = APIClient()
    admin.force_login(MembershipFactory(clinic=clinic, role="clinic_admin").user)
    cursors = []
    for url in ("/api/v1/patients/", "/api/v1/flags/"):
        next_url = admin.get(f"{url}?page_size=1").json()["next"]
        cursors.append(parse_qs(urlsplit(next_url).query)["cursor"][0])
    samples = [str(patient.pk), f"Patient/{patient.pk}", str(intake.pk), "F-1", "urn:f|F-1", "1"]
    return {"ids": ids, "client": admin, "samples": samples, "cursors": cursors}


def named_parameters(path: str, response) -> set[str]:
    body = response.json()
    if path.startswith("/fhir/"):
        assert body["resourceType"] == "OperationOutcome", body
        return {issue.get("diagnostics", "").split(": ", 1)[0] for issue in body["issue"]}
    assert response["Content-Type"] == "application/problem+json", response["Content-Type"]
    return {error["path"] for error in body.get("errors", [])}


@st.composite
def requests(draw: st.DrawFn, world: dict) -> tuple[str, list[tuple[str, str | bytes]]]:
    path = draw(st.sampled_from(sorted(OPERATIONS)))
    known = [*parameter_names(path), "cursor", "page_size"]
    name = st.one_of(st.sampled_from(known), st.from_regex(r"[a-z_]{1,8}", fullmatch=True))
    pairs = draw(st.lists(st.tuples(name, values(world)), max_size=4))
    if path == "/fhir/Observation" and draw(st.booleans()):
        pairs.insert(0, ("subject", f"Patient/{world['ids']['patients']}"))
    return path, pairs


@settings(
    max_examples=300,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_query_string_is_answered_without_5xx_and_a_400_names_a_parameter(world, data):
    # given
    path, pairs = data.draw(requests(world))
    query = "&".join(f"{encoded(name)}={encoded(value)}" for name, value in pairs)
    # when
    response = world["client"].get(f"{fill(path, world['ids'])}?{query}")
    # then
    assert response.status_code < 500, (path, query, response.content)
    if response.status_code == 400:
        sent_or_required = {name for name, _ in pairs} | set(parameter_names(path, required_only=True))
        assert named_parameters(path, response) & sent_or_required, (path, query, response.content)


def test_every_get_endpoint_is_fuzzed(world):
    assert len(OPERATIONS) >= 20
    for path in OPERATIONS:
        response = world["client"].get(fill(path, world["ids"]))
        assert response.status_code < 500, path
