"""Serializer building blocks: strict objects (unknown keys rejected), clean text and bounded
collections.

Every request serializer is built from these (tests/api/test_input_fields.py walks every request
body of the API to prove it): a text field is a `CleanCharField` (NFC, no control or format
characters; `intake.text`), a date or date-time refuses the same characters, and every list and
map declares how many elements it takes (`intake.limits`), which the OpenAPI document publishes
as `maxItems` / `maxProperties`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.validators import MaxLengthValidator
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from intake.text import nfc, refusal


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


class CleanTextMixin:
    """Refuse control, format and separator characters (`intake.text`) before DRF trims the value:
    `str.strip()` would silently drop a trailing U+2028 or U+001F, and a stored value must be what
    the client sent. `free_text=True` (notes, reasons) keeps TAB, LF, CR and format characters."""

    error_messages: Any

    def __init__(self, *args: Any, free_text: bool = False, **kwargs: Any) -> None:
        self.free_text = free_text
        super().__init__(*args, **kwargs)
        self.error_messages.setdefault("control_character", "{message}")

    def run_validation(self, data: Any = serializers.empty) -> Any:
        if isinstance(data, str):
            message = refusal(data, free_text=self.free_text)
            if message is not None:
                self.fail("control_character", message=message)  # type: ignore[attr-defined]
        return super().run_validation(data)  # type: ignore[misc]


class CleanCharField(CleanTextMixin, serializers.CharField):
    """Text normalised to Unicode NFC (`intake.text.nfc`), with control and format characters,
    separators, noncharacters and lone surrogates refused."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")  # DRF would turn 12 into "12": a type error must be named
        return nfc(super().to_internal_value(data))


class CleanURLField(CleanTextMixin, serializers.URLField):
    """A URL with the characters `CleanCharField` refuses refused too (Django's URL validator lets
    U+200B through in a host name)."""


class CleanDateField(CleanTextMixin, serializers.DateField):
    """A date; a NUL or any other control character anywhere in it is refused, not ignored."""


class CleanDateTimeField(CleanTextMixin, serializers.DateTimeField):
    """A date-time; Django's parser accepts `2026-01-01T00:00:00Z` followed by a NUL or a newline,
    so these are refused before parsing."""


class BoundedDictField(serializers.DictField):
    """A JSON object with at most `max_length` keys, each a short clean text. The size is checked
    before any value is read; the validator publishes it as `maxProperties`."""

    default_error_messages = {
        "max_length": "Ensure this object has no more than {max_length} keys.",
        "key": "Key {key_index}: {message}",
    }

    def __init__(self, *args: Any, max_length: int, **kwargs: Any) -> None:
        self.max_length = max_length
        super().__init__(*args, **kwargs)
        self.validators.append(MaxLengthValidator(max_length))

    def to_internal_value(self, data: Any) -> dict[Any, Any]:
        if isinstance(data, Mapping):
            if len(data) > self.max_length:
                self.fail("max_length", max_length=self.max_length)
            for key_index, key in enumerate(data):
                message = refusal(str(key))
                if message is not None:
                    self.fail("key", key_index=key_index, message=message)
        result: dict[Any, Any] = super().to_internal_value(data)
        return result


class BoundedListSerializer(serializers.ListSerializer):
    """`child` many times, at most `max_length`: DRF refuses a longer list before reading any
    element; the validator added here publishes the bound as `maxItems` (drf-spectacular reads
    validators, not ListSerializer's own `max_length`)."""

    def __init__(self, *, max_length: int, **kwargs: Any) -> None:
        super().__init__(max_length=max_length, **kwargs)
        self.validators.append(MaxLengthValidator(max_length))


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "boolean"}, {"type": "number"}, {"type": "string"}],
        "nullable": True,
        "description": "An answer: an integer (true/false on yes/no items), or null if unanswered.",
    }
)
class AnswerValueField(serializers.Field):
    """One raw answer, passed to the instrument engine as sent (it names any value it refuses),
    but only as a JSON scalar: a list or object here would be repeated whole in that message."""

    default_error_messages = {
        "not_a_scalar": "An answer is a number, true/false or null, not a list or an object.",
        "too_long": "No answer is longer than {max_length} characters.",
    }
    MAX_TEXT_LENGTH = 100

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_null=True, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, list | dict):
            self.fail("not_a_scalar")
        if isinstance(data, str):
            if len(data) > self.MAX_TEXT_LENGTH:
                self.fail("too_long", max_length=self.MAX_TEXT_LENGTH)
            message = refusal(data)
            if message is not None:
                raise serializers.ValidationError(message, code="control_character")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class StrictSerializer(StrictFieldsMixin, serializers.Serializer):
    pass


class StrictModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    # Fields generated from the model are clean too: a column added to `Meta.fields` cannot bring
    # back a plain CharField.
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: CleanCharField,
        models.TextField: CleanCharField,
        models.URLField: CleanURLField,
        models.DateField: CleanDateField,
        models.DateTimeField: CleanDateTimeField,
    }
