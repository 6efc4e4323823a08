"""Instrument definitions over HTTP: what each instrument asks, how it is scored, its sources."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from intake.instruments import InstrumentDefinition, InstrumentError, all_instruments, get

from .fields import StrictSerializer


def definition_as_dict(definition: InstrumentDefinition) -> dict[str, Any]:
    """The whole definition, JSON-ready (Decimals as strings, the missing-item rule named)."""
    data = _jsonable(dataclasses.asdict(definition))
    rule = definition.missing_rule
    data["missing_rule"] = {"rule": _snake(type(rule).__name__), **_jsonable(dataclasses.asdict(rule))}
    data["reversed_items"] = list(definition.reversed_items)
    data["recoded_items"] = list(definition.recoded_items)
    return data


def definition_summary(definition: InstrumentDefinition) -> dict[str, Any]:
    return {
        "code": definition.code,
        "version": definition.version,
        "title": definition.title,
        "recall_period": definition.recall_period,
        "item_count": len(definition.items),
        "total_range": list(definition.total_range) if definition.total_range else None,
        "bands": [band.code for band in definition.bands],
        "flags": [flag.code for flag in definition.flags],
        "subscales": [subscale.name for subscale in definition.subscales],
        "loinc_panel": definition.loinc.panel,
        "loinc_total": definition.loinc.total,
        "licence": definition.licence,
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


class InstrumentSummarySerializer(StrictSerializer):
    code = serializers.CharField()
    version = serializers.CharField()
    title = serializers.CharField()
    recall_period = serializers.CharField(allow_null=True)
    item_count = serializers.IntegerField()
    total_range = serializers.ListField(child=serializers.IntegerField(), allow_null=True)
    bands = serializers.ListField(child=serializers.CharField())
    flags = serializers.ListField(child=serializers.CharField())
    subscales = serializers.ListField(child=serializers.CharField())
    loinc_panel = serializers.CharField(allow_null=True)
    loinc_total = serializers.CharField(allow_null=True)
    licence = serializers.CharField()


class InstrumentViewSet(viewsets.ViewSet):
    """The instruments this service scores (any authenticated caller may read them)."""

    scope_resource = None
    lookup_field = "code"
    lookup_value_regex = "[a-z0-9_]+"

    @extend_schema(summary="List instruments", responses=InstrumentSummarySerializer(many=True))
    def list(self, request: Request) -> Response:
        return Response([definition_summary(d) for d in all_instruments()])

    @extend_schema(
        summary="An instrument's full definition: items, options, scoring, bands, flags, sources",
        responses=OpenApiResponse(description="The definition (see `GET /api/v1/instruments/phq9/`)."),
    )
    def retrieve(self, request: Request, code: str | None = None) -> Response:
        try:
            definition = get(code or "")
        except InstrumentError as exc:
            raise NotFound(str(exc)) from exc
        return Response(definition_as_dict(definition))
