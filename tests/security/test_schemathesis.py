"""Property-based fuzzing of the whole API from its OpenAPI document (schemathesis).

Every documented operation is called in-process with generated (valid and invalid) input and a
token holding every scope: no 5xx, every response conforms to the document (status codes,
content types, bodies), schema-invalid input is refused and schema-valid input accepted.
Examples are bounded so the run stays within a few minutes on 2 cores.

Generation is seeded from the run's seed (tests/conftest.py prints it): rerun a failure with
`pytest 'tests/security/test_schemathesis.py::test_api_conforms_to_its_schema[POST /api/v1/patients/]'
--hypothesis-seed=<seed>`. schemathesis.toml sets the statuses a valid request may still get.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from clinic_service.wsgi import application
from tests import conftest as run

ROOT = Path(__file__).resolve().parents[2]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]

config = SchemathesisConfig.from_path(ROOT / "schemathesis.toml")
if run.RUN_SEED is not None:
    # schemathesis seeds each test itself (hypothesis's --hypothesis-seed does not reach it):
    # derive it from the run's seed so the printed seed reproduces these tests too.
    config.projects.default.seed = run.RUN_SEED

schema = schemathesis.openapi.from_path(ROOT / "api_schema" / "openapi.yaml", config=config)

POSITIVE = positive_data_acceptance.__name__
NEGATIVE = negative_data_rejection.__name__
# Checks not applied to an operation, each with its reason. Rules no static schema states make a
# valid-looking request fail for good reason; the rest are open gaps of issue 12 owned elsewhere:
# delete the entry once they are closed.
NOT_CHECKED: dict[tuple[str, str], str] = {
    # Business rules beyond the document: a birth date from 1900 to today, `patient` given by
    # exactly one of id/identifier with demographics only for a new one, text without control
    # characters (issue 12 item 15 widens that set).
    ("POST /api/v1/patients/", POSITIVE): "birth-date range, text rules",
    ("PUT /api/v1/patients/{id}/", POSITIVE): "birth-date range, text rules",
    ("PATCH /api/v1/patients/{id}/", POSITIVE): "birth-date range, text rules",
    ("POST /api/v1/intakes/", POSITIVE): "patient id/identifier rule, birth-date range",
    ("POST /api/v1/intakes/{id}/revisions/", POSITIVE): "answers validated per instrument",
    # A FHIR resource is validated against the FHIR specification (element names, types,
    # cardinalities), which the document does not restate: it describes a JSON object.
    ("POST /fhir/QuestionnaireResponse", POSITIVE): "FHIR R4 rules",
    ("POST /fhir/QuestionnaireResponse/$extract", POSITIVE): "FHIR R4 rules",
    # A webhook URL must resolve to a public address: no DNS in tests, and not a schema property.
    ("POST /api/v1/webhooks/", POSITIVE): "URL must resolve",
    ("PUT /api/v1/webhooks/{id}/", POSITIVE): "URL must resolve",
    ("PATCH /api/v1/webhooks/{id}/", POSITIVE): "URL must resolve",
    # Issue 12 item 16: a well-formed FHIR subject that names no patient of the clinic is a 400.
    ("GET /fhir/Observation", POSITIVE): "item 16: unknown subject is 400",
    # Items 9/16: text query parameters refuse control and format characters (400). The document
    # states it (`pattern`), but schemathesis generates query strings without honouring it.
    ("GET /api/v1/flags/", POSITIVE): "items 9/16: text filters refuse NUL",
    ("GET /api/v1/patients/", POSITIVE): "items 9/16: text filters refuse NUL",
    ("GET /api/v1/intakes/", POSITIVE): "items 9/16: text filters refuse NUL",
    ("GET /api/v1/webhooks/{id}/deliveries/", POSITIVE): "items 9/16: text filters refuse NUL",
    ("GET /fhir/AuditEvent", POSITIVE): "item 16: unknown patient is 400",
}
schema.app = application


@pytest.fixture
def bearer(api_for, clinic) -> dict[str, str]:
    from django.conf import settings as django_settings

    from tests.conftest import issue_token
    from tests.factories import IntegrationClientFactory

    scopes = list(django_settings.API_SCOPES)
    token = issue_token(IntegrationClientFactory(clinic=clinic, scopes=scopes), scopes)
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, bearer):
    if case.meta is not None and case.meta.generation.mode.is_positive and case.query:
        # A cursor is an opaque token the API hands out; a generated one is rightly refused.
        case.query.pop("cursor", None)
    label = case.operation.label
    checks = [check for check in CHECKS if (label, check.__name__) not in NOT_CHECKED]
    case.call_and_validate(headers=bearer, checks=checks)


def test_document_states_what_request_bodies_refuse():
    # Found by `st run` against gunicorn: notes with a control character and bodies with extra
    # keys were documented as valid, then refused with 400.
    import re

    import yaml

    components = yaml.safe_load((ROOT / "api_schema" / "openapi.yaml").read_text())["components"]["schemas"]
    for name in ("FlagAssignRequest", "FlagNoteRequest", "PatientRequest"):
        assert components[name]["additionalProperties"] is False, name
    note = components["FlagAssignRequest"]["properties"]["note"]
    pattern = re.compile(note.get("pattern") or note["oneOf"][0]["pattern"])  # oneOf: may be blank
    assert pattern.match("Called the patient; booked physio.")
    assert not pattern.match("\x03ía") and not pattern.match("a\x00b") and not pattern.match("\x85")
    assert pattern.match("two lines:\nfree text keeps them")  # a note is free text
    family = components["PatientRequest"]["properties"]["family_name"]
    short = re.compile(family.get("pattern") or family["oneOf"][0]["pattern"])
    assert short.match("Ngũgĩ") and not short.match("Ann\u200b") and not short.match("Ann\u202e")


def test_every_pattern_in_the_document_is_a_regex_the_generator_reads():
    # A pattern Rust's regex engine refuses (a surrogate range did) is dropped by schemathesis'
    # validator, which then generated NUL as "valid" data on some seeds: a seed-dependent failure.
    import jsonschema_rs
    import yaml

    def patterns(node):
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                yield node["pattern"]
            for value in node.values():
                yield from patterns(value)
        elif isinstance(node, list):
            for value in node:
                yield from patterns(value)

    document = yaml.safe_load((ROOT / "api_schema" / "openapi.yaml").read_text())
    found = sorted(set(patterns(document)))
    assert found
    refused = []
    for pattern in found:
        try:
            jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
        except jsonschema_rs.ValidationError:
            refused.append(pattern)
    assert refused == []
