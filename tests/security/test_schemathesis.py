"""Property-based fuzzing of the whole API from its OpenAPI document (schemathesis).

Every documented operation is called in-process with generated (valid and invalid) input and a
token holding every scope: no 5xx, and every response conforms to the document (status codes,
content types, bodies). Examples are bounded so the run stays within a few minutes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from clinic_service.wsgi import application

# What the issue asks of every response: no server error, and conformance to the document.
# (Generated negative data that we tolerate — e.g. an empty optional filter, which is ignored — is
# not a defect, so negative_data_rejection is not among these.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

SCHEMA = Path(__file__).resolve().parents[2] / "api_schema" / "openapi.yaml"

schema = schemathesis.openapi.from_path(SCHEMA)
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
    case.call_and_validate(headers=bearer, checks=CHECKS)
