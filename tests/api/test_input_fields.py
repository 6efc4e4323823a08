"""Every request body of the API is built from the project's input fields: clean text and bounded
lists and maps. Walks the serializers drf-spectacular finds for each operation and the OpenAPI
document itself, so a new endpoint or field with an unbounded list or a plain CharField fails here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from intake.api.fields import BoundedDictField, CleanTextMixin


def _request_serializers(monkeypatch: pytest.MonkeyPatch) -> dict[str, serializers.BaseSerializer]:
    """(operation → request serializer instance) for every operation of the API document."""
    found: dict[str, serializers.BaseSerializer] = {}
    original = AutoSchema._get_request_body

    # _get_request_body is where every operation asks for its body's serializer; recorded there
    # because @extend_schema(request=...) replaces get_request_serializer itself.
    def recording(self: AutoSchema, *args: Any, **kwargs: Any) -> Any:
        serializer = self.get_request_serializer()
        if serializer is not None and self.method in ("POST", "PUT", "PATCH"):
            instance = serializer() if isinstance(serializer, type) else serializer
            if isinstance(instance, serializers.BaseSerializer):
                found[f"{self.method} {self.path}"] = instance
        return original(self, *args, **kwargs)

    monkeypatch.setattr(AutoSchema, "_get_request_body", recording)
    SchemaGenerator().get_schema(request=None, public=True)
    return found


def _writable_fields(field: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(JSON path, field) for `field` and every writable field inside it."""
    if getattr(field, "read_only", False):
        return
    yield path, field
    if isinstance(field, serializers.ListSerializer):
        yield from _writable_fields(field.child, f"{path}[]")
    elif isinstance(field, serializers.Serializer):
        for name, child in field.fields.items():
            yield from _writable_fields(child, f"{path}.{name}" if path else name)
    elif isinstance(field, serializers.ListField | serializers.DictField):
        yield from _writable_fields(field.child, f"{path}[]")


@pytest.fixture(scope="module")
def request_serializers() -> dict[str, serializers.BaseSerializer]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        return _request_serializers(monkeypatch)


def test_the_walk_sees_every_request_body(request_serializers):
    # given the operations known to take a body
    expected = {
        "POST /api/v1/patients/",
        "PUT /api/v1/patients/{id}/",
        "PATCH /api/v1/patients/{id}/",
        "POST /api/v1/intakes/",
        "POST /api/v1/webhooks/",
        "POST /api/v1/flags/{id}/dismiss/",
        "POST /api/v1/flags/{id}/assign/",
    }
    # then the walk finds them (it would prove nothing if it found nothing)
    assert expected <= set(request_serializers), sorted(request_serializers)


def test_no_plain_text_field_remains_in_a_request_body(request_serializers):
    # given every writable field of every request body
    plain = [
        f"{operation}: {path} ({type(field).__name__})"
        for operation, serializer in request_serializers.items()
        for path, field in _writable_fields(serializer, "")
        if isinstance(field, serializers.CharField | serializers.DateField | serializers.DateTimeField)
        and not isinstance(field, CleanTextMixin)
    ]
    # then each text, date and date-time is a clean field (intake.api.fields)
    assert plain == []


def test_every_list_and_map_in_a_request_body_is_bounded(request_serializers):
    unbounded = []
    for operation, serializer in request_serializers.items():
        for path, field in _writable_fields(serializer, ""):
            if path == "":
                continue  # the body itself: a single object or a list of many=True bodies
            is_list = isinstance(field, serializers.ListSerializer | serializers.ListField)
            is_map = isinstance(field, serializers.DictField | serializers.JSONField)
            if (is_list and field.max_length is None) or (is_map and not isinstance(field, BoundedDictField)):
                unbounded.append(f"{operation}: {path}")
    assert unbounded == []


def _schema_arrays_and_maps(schema: Any, components: dict[str, Any], path: str, seen: set[str]):
    """(path, schema) of every array and free-keyed object reachable from a request schema."""
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            return
        yield from _schema_arrays_and_maps(components[name], components, path, {*seen, name})
        return
    if schema.get("readOnly"):
        return
    if schema.get("type") == "array":
        yield path, schema
        yield from _schema_arrays_and_maps(schema.get("items"), components, f"{path}[]", seen)
    additional = schema.get("additionalProperties")
    # A FHIR body is documented as a free-form object (its keys are FHIR element names, not a map):
    # its arrays are bounded by intake.fhir.inbound.check_document, tested in test_input_limits.py.
    if schema.get("type") == "object" and additional not in (None, False) and path:
        yield path, schema
        yield from _schema_arrays_and_maps(additional, components, f"{path}{{}}", seen)
    for name, prop in (schema.get("properties") or {}).items():
        yield from _schema_arrays_and_maps(prop, components, f"{path}.{name}", seen)
    for key in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(key) or []:
            yield from _schema_arrays_and_maps(part, components, path, seen)


def test_every_array_and_map_of_a_request_body_declares_its_limit_in_the_openapi_document():
    # given the document `make schema` writes
    document = SchemaGenerator().get_schema(request=None, public=True)
    components = document["components"]["schemas"]
    missing, checked = [], 0
    # when every request body's arrays and free-keyed objects are walked
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for media, content in (operation.get("requestBody") or {}).get("content", {}).items():
                where = f"{method.upper()} {path} {media}"
                for place, schema in _schema_arrays_and_maps(content["schema"], components, "", set()):
                    checked += 1
                    limit = "maxItems" if schema.get("type") == "array" else "maxProperties"
                    if limit not in schema:
                        missing.append(f"{where}: {place or '(body)'} has no {limit}")
    # then each declares how many elements it takes
    assert checked > 0
    assert missing == []
