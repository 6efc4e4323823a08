"""Request and response shapes of API v1."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from intake.models import Patient

from .fields import CleanCharField, StrictModelSerializer, StrictSerializer


class IdentifierSerializer(StrictSerializer):
    system = CleanCharField(max_length=255, help_text="Namespace URI, e.g. the EHR's MRN system.")
    value = CleanCharField(max_length=255)


class PatientSerializer(StrictModelSerializer):
    family_name = CleanCharField(max_length=100)
    given_name = CleanCharField(max_length=100)
    identifiers = IdentifierSerializer(many=True, required=False)

    class Meta:
        model = Patient
        fields = [
            "id",
            "family_name",
            "given_name",
            "birth_date",
            "gender",
            "is_active",
            "identifiers",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "is_active", "created_at", "updated_at"]

    def validate_birth_date(self, value: datetime.date) -> datetime.date:
        if value > timezone.localdate():
            raise serializers.ValidationError("Birth date is in the future.")
        if value.year < 1900:
            raise serializers.ValidationError("Birth date is before 1900.")
        return value

    def validate_identifiers(self, value: list[dict[str, str]]) -> list[dict[str, str]]:
        seen: set[tuple[str, str]] = set()
        for item in value:
            pair = (item["system"], item["value"])
            if pair in seen:
                raise serializers.ValidationError(f"Identifier {pair[0]}|{pair[1]} is listed twice.")
            seen.add(pair)
        return value


def identifier_pairs(validated: dict[str, Any]) -> list[tuple[str, str]] | None:
    items = validated.get("identifiers")
    return None if items is None else [(i["system"], i["value"]) for i in items]
