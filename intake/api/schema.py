"""OpenAPI generation: every operation documents its problem-details error responses."""

from __future__ import annotations

import functools
from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from intake.text import forbidden_character

from .fields import CleanCharField, StrictFieldsMixin, StrictSerializer


class ProblemErrorSerializer(StrictSerializer):
    path = serializers.CharField(help_text="JSON path of the offending input, e.g. `responses.phq9.q9`.")
    pointer = serializers.CharField(help_text="The same place as an RFC 6901 JSON pointer.")
    code = serializers.CharField(help_text="Machine-readable error code, e.g. `required`, `max_value`.")
    detail = serializers.CharField()


class ProblemSerializer(StrictSerializer):
    """RFC 9457 problem details."""

    type = serializers.CharField(help_text="Problem type, e.g. `/problems/validation-error`.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(required=False)
    errors = ProblemErrorSerializer(many=True, required=False)  # type: ignore[assignment]
    required_scopes = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="On a 403 `/problems/insufficient-scope`: every scope the operation needs.",
    )


_DESCRIPTIONS = {
    "400": "Invalid input: `errors` names each offending field by JSON path.",
    "401": "No valid access token: `/problems/not-authenticated` (none sent), `/problems/invalid-token` "
    "(unknown, malformed or revoked) or `/problems/token-expired`.",
    "403": "The token or role lacks a scope this operation needs (`/problems/insufficient-scope`, "
    "`required_scopes` names them), or acts for no active clinic.",
    "404": "Not found (also for another clinic's records).",
    "409": "Conflicts with the current state (e.g. an identifier already in use).",
    "412": "If-Match names an old version: re-read and retry.",
    "413": "Request body too large.",
    "415": "Send `Content-Type: application/json`.",
    "422": "Well-formed but cannot be processed.",
    "503": "A backing service is unavailable; retry after `Retry-After` seconds.",
}


OPERATION_OUTCOME_SCHEMA = {
    "type": "object",
    "description": "A FHIR R4 OperationOutcome.",
    "properties": {
        "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
        "issue": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["resourceType", "issue"],
}


@functools.cache
def refused_text_pattern(*, free_text: bool) -> str:
    """A pattern matching text without the characters intake.text refuses, for the document.

    Built from intake.text itself so the two cannot drift. Only the Basic Multilingual Plane is
    listed (\\uXXXX escapes read alike in ECMA-262, Python and Rust): the few refused code points above
    it (format characters such as U+E0001, noncharacters such as U+1FFFF) are not in the pattern,
    and the server's check stays the authority.
    """
    ranges: list[tuple[int, int]] = []
    for point in range(0x10000):
        if 0xD800 <= point <= 0xDFFF:
            # Surrogates are not characters: regex engines over Unicode scalar values (Rust's, in
            # the validator schemathesis uses) reject the whole pattern for such a range, and
            # then generate NUL as "valid". Lone ones never get past the JSON parser anyway.
            continue
        if forbidden_character(chr(point), free_text=free_text) is None:
            continue
        if ranges and ranges[-1][1] == point - 1:
            ranges[-1] = (ranges[-1][0], point)
        else:
            ranges.append((point, point))
    body = "".join(f"\\u{a:04X}" if a == b else f"\\u{a:04X}-\\u{b:04X}" for a, b in ranges)
    return f"^[^{body}]*$"


class ProblemAutoSchema(AutoSchema):
    def _map_serializer_field(self, field: Any, direction: Any, bypass_extensions: bool = False) -> Any:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, CleanCharField) and schema.get("type") == "string":
            # The characters the field refuses (400), so generated and hand-written clients know.
            schema.setdefault("pattern", refused_text_pattern(free_text=field.free_text))
        return schema

    def _map_serializer(self, serializer: Any, direction: Any, bypass_extensions: bool = False) -> Any:
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and isinstance(serializer, StrictFieldsMixin):
            # Strict serializers answer 400 for a key they do not know: say so, so clients and
            # schema-driven tests do not send extra keys expecting them to be ignored.
            schema["additionalProperties"] = False
        return schema

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        codes = ["400", "401", "403", "503"]
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["413", "415"]
        if "{" in self.path:
            codes.append("404")
        if getattr(self.view, "renders_fhir", False):
            # FHIR endpoints answer errors with an OperationOutcome, as FHIR clients expect.
            media, schema = "application/fhir+json", OPERATION_OUTCOME_SCHEMA
            codes.append("422")
        else:
            media, schema = (
                "application/problem+json",
                self.resolve_serializer(ProblemSerializer, "response").ref,
            )
        for code in codes + [c for c in getattr(self.view, "problem_statuses", ()) if c not in codes]:
            responses.setdefault(
                code, {"content": {media: {"schema": schema}}, "description": _DESCRIPTIONS[code]}
            )
        return responses

    def _get_filter_parameters(self) -> list[dict[str, Any]]:
        # Every filter here needs a value when given (StrictQueryForm), and no parameter may hold
        # the characters short text refuses: say so in the document.
        parameters: list[dict[str, Any]] = super()._get_filter_parameters()
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if schema.get("type") == "string":
                schema.setdefault("minLength", 1)
                if "format" not in schema and "enum" not in schema:
                    # QueryStringGuardMiddleware refuses these in any parameter (400).
                    schema.setdefault("pattern", refused_text_pattern(free_text=False))
        return parameters

    def _get_response_for_code(
        self, serializer: Any, status_code: Any, media_types: Any = None, direction: Any = "response"
    ) -> Any:
        if getattr(self.view, "renders_fhir", False) and media_types is None:
            media_types = ["application/fhir+json"]
        return super()._get_response_for_code(serializer, status_code, media_types, direction)


# FHIR operations are named with a leading `$` (e.g. `$extract`), which drf-spectacular drops when
# it turns URL patterns into paths; put it back so the document names the real URL.
FHIR_OPERATIONS = ("extract",)


def restore_fhir_operation_paths(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    paths = result.get("paths", {})
    for path in list(paths):
        head, _, last = path.rpartition("/")
        if path.startswith("/fhir/") and last in FHIR_OPERATIONS:
            paths[f"{head}/${last}"] = paths.pop(path)
    return result
