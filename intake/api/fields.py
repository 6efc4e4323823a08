"""Serializer building blocks: strict objects (unknown keys rejected) and clean text."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers


class StrictFieldsMixin:
    """Reject keys the serializer does not accept, instead of silently dropping them.

    A client that sends `clinic`, `status` or a misspelt field learns so at once (and mass
    assignment of read-only fields is refused, not ignored).
    """

    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            errors = {}
            for key in data:
                field = self.fields.get(key)
                if field is None:
                    errors[key] = ["Unknown field."]
                elif field.read_only:
                    errors[key] = ["This field is read-only."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictSerializer(StrictFieldsMixin, serializers.Serializer):
    pass


class StrictModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    pass


def _is_forbidden_char(char: str) -> bool:
    # Cc: control characters (NUL, escapes…); Cs: unpaired surrogates, which cannot be stored.
    return unicodedata.category(char) in ("Cc", "Cs")


class CleanCharField(serializers.CharField):
    """Text normalised to Unicode NFC, with control characters and lone surrogates refused."""

    default_error_messages = {
        "control_character": "Control characters are not allowed.",
        "not_a_string": "Must be a string.",
    }

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")  # DRF would turn 12 into "12": a type error must be named
        text = super().to_internal_value(data)
        if any(_is_forbidden_char(char) for char in text):
            self.fail("control_character")
        return unicodedata.normalize("NFC", text)
