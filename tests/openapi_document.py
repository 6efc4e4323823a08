"""Check a test client's response against the committed OpenAPI document (api_schema/openapi.yaml)."""

from __future__ import annotations

from pathlib import Path

import schemathesis

DOCUMENT = Path(__file__).resolve().parents[1] / "api_schema" / "openapi.yaml"
_schema = schemathesis.openapi.from_path(DOCUMENT)


def assert_conforms(method: str, path: str, response) -> None:
    """Raise (naming the mismatch) unless the body and status are what the document describes
    for `method path` (`path` as written in the document, e.g. `/api/v1/patients/{id}/`)."""
    converted = schemathesis.Response(
        status_code=response.status_code,
        headers={name.lower(): [value] for name, value in response.headers.items()},
        content=response.content,
        request=None,
        elapsed=0.0,
        verify=False,
    )
    _schema[path][method.upper()].validate_response(converted)
