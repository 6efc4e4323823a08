"""Query filters for list endpoints (django-filter).

Strict: a filter given a value it cannot use is a 400 naming the parameter, never dropped (which
would return the whole list). Names and identifiers are searched in Unicode NFC, the form they
are stored in (`intake.services.patients`): a client sending the decomposed form of a value finds it.
"""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from intake.models import (
    DeliveryStatus,
    FlagStatus,
    Intake,
    Patient,
    Priority,
    ReferralFlag,
    WebhookDelivery,
)
from intake.selectors.intakes import flags_overdue
from intake.text import nfc

from .permissions import resolve_actor
from .query import INT32_MAX, ascii_integer


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, turned into UTC: Python accepts offsets up to ±23:59, PostgreSQL
    only up to ±15:59, so an odd offset is normalised here rather than failing in the query."""

    def to_python(self, value: Any) -> datetime.datetime | None:
        parsed: datetime.datetime | None = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(datetime.UTC)
        except OverflowError as exc:
            raise forms.ValidationError("Out of the supported range.", code="invalid") from exc


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class NfcCharField(forms.CharField):
    """A search text in Unicode NFC, the form names and identifiers are stored in."""

    def to_python(self, value: Any) -> str | None:
        text = super().to_python(value)
        return None if text is None else nfc(text)


class NfcCharFilter(django_filters.CharFilter):
    field_class = NfcCharField


class StrictBooleanField(forms.Field):
    """`true` or `false` (any case; `1`/`0` too). Django's NullBooleanField reads anything else,
    `maybe` included, as "unknown", which django-filter then treats as no filter at all."""

    default_error_messages = {"invalid": "Use true or false."}
    _VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value: Any) -> bool | None:
        if value in self.empty_values:
            return None
        parsed = self._VALUES.get(str(value).lower())
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class StrictQueryForm(forms.Form):
    """The form behind every FilterSet here: a parameter given more than once (unless it is a
    repeatable one) or with an empty value is an error, not "no filter"."""

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        for name, field in self.fields.items():
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else []
            if name in self.errors:  # one error per parameter: the field's own comes first
                continue
            if len(values) > 1 and not isinstance(field, forms.MultipleChoiceField):
                self.add_error(name, forms.ValidationError("Give this parameter once.", code="repeated"))
            elif any(value.strip() == "" for value in values):
                self.add_error(
                    name,
                    forms.ValidationError("Give a value, or leave the parameter out.", code="blank"),
                )
        return cleaned


class StrictFilterSet(django_filters.FilterSet):
    def get_form_class(self) -> type[forms.Form]:
        fields = {name: filter_.field for name, filter_ in self.filters.items()}
        return type(f"{type(self).__name__}Form", (StrictQueryForm,), fields)


class PatientFilter(StrictFilterSet):
    identifier = NfcCharFilter(
        method="filter_identifier",
        help_text="FHIR token: `SYSTEM|VALUE`, or `VALUE` for any system. Matched in Unicode NFC.",
    )
    family = NfcCharFilter(field_name="family_name", lookup_expr="istartswith")
    given = NfcCharFilter(field_name="given_name", lookup_expr="istartswith")
    name = NfcCharFilter(method="filter_name", help_text="Start of family or given name.")
    birth_date = django_filters.DateFilter()
    active = StrictBooleanFilter(field_name="is_active")

    class Meta:
        model = Patient
        fields: list[str] = []

    def filter_identifier(self, queryset: QuerySet[Patient], name: str, token: str) -> QuerySet[Patient]:
        if "|" in token:
            system, value = token.split("|", 1)
            if not system or not value:  # FHIR's `|VALUE` and `SYSTEM|` forms are not supported
                raise ValidationError({name: ["Use SYSTEM|VALUE, or VALUE for any system."]})
            return queryset.filter(identifiers__system=system, identifiers__value=value).distinct()
        return queryset.filter(identifiers__value=token).distinct()

    def filter_name(self, queryset: QuerySet[Patient], name: str, value: str) -> QuerySet[Patient]:
        return queryset.filter(Q(family_name__istartswith=value) | Q(given_name__istartswith=value))


class IntakeFilter(StrictFilterSet):
    patient = django_filters.UUIDFilter(field_name="patient_id")
    form = django_filters.CharFilter(field_name="form_code")
    completed_after = UtcIsoDateTimeFilter(field_name="completed_at", lookup_expr="gte")
    completed_before = UtcIsoDateTimeFilter(field_name="completed_at", lookup_expr="lt")

    class Meta:
        model = Intake
        fields: list[str] = []


class FlagFilter(StrictFilterSet):
    # distinct=False: both filter the flag's own columns, so no join can duplicate a row, and
    # django-filter's default SELECT DISTINCT makes PostgreSQL sort every matching flag before
    # LIMIT (95 ms instead of 0.6 ms at 100,000 flags; docs/performance.md).
    status = django_filters.MultipleChoiceFilter(
        choices=FlagStatus.choices, help_text="Repeat for several.", distinct=False
    )
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices, distinct=False)
    kind = django_filters.CharFilter()
    overdue = StrictBooleanFilter(method="filter_overdue", help_text="Active and past due_at.")
    assignee = django_filters.CharFilter(method="filter_assignee", help_text="A user id, `me` or `none`.")
    patient = django_filters.UUIDFilter(field_name="patient_id")
    intake = django_filters.UUIDFilter(field_name="intake_id")

    class Meta:
        model = ReferralFlag
        fields: list[str] = []

    def filter_overdue(
        self, queryset: QuerySet[ReferralFlag], name: str, value: bool
    ) -> QuerySet[ReferralFlag]:
        return flags_overdue(queryset, overdue=value)

    # What the method accepts, in the document (a generated "§" must not look valid).
    # A user id (1 up to 9 digits, within PostgreSQL integer), `me` or `none`.
    @extend_schema_field({"type": "string", "pattern": "^([1-9][0-9]{0,8}|me|none)$"})
    def filter_assignee(
        self, queryset: QuerySet[ReferralFlag], name: str, value: str
    ) -> QuerySet[ReferralFlag]:
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if value == "me":
            actor = resolve_actor(self.request)
            return queryset.filter(assignee_id=actor.user_id if actor else None)
        user_id = ascii_integer(value, minimum=1, maximum=INT32_MAX)
        if user_id is None:
            raise ValidationError({name: ["Use a user id, `me` or `none`."]})
        return queryset.filter(assignee_id=user_id)


class DeliveryFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)

    class Meta:
        model = WebhookDelivery
        fields: list[str] = []
