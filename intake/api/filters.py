"""Query filters for list endpoints (django-filter)."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from intake.models import Patient


class PatientFilter(django_filters.FilterSet):
    identifier = django_filters.CharFilter(
        method="filter_identifier",
        help_text="FHIR token: `SYSTEM|VALUE`, or `VALUE` for any system.",
    )
    family = django_filters.CharFilter(field_name="family_name", lookup_expr="istartswith")
    given = django_filters.CharFilter(field_name="given_name", lookup_expr="istartswith")
    name = django_filters.CharFilter(method="filter_name", help_text="Start of family or given name.")
    birth_date = django_filters.DateFilter()
    active = django_filters.BooleanFilter(field_name="is_active")

    class Meta:
        model = Patient
        fields: list[str] = []

    def filter_identifier(self, queryset: QuerySet[Patient], name: str, token: str) -> QuerySet[Patient]:
        if "|" in token:
            system, value = token.split("|", 1)
            return queryset.filter(identifiers__system=system, identifiers__value=value).distinct()
        return queryset.filter(identifiers__value=token).distinct()

    def filter_name(self, queryset: QuerySet[Patient], name: str, value: str) -> QuerySet[Patient]:
        return queryset.filter(Q(family_name__istartswith=value) | Q(given_name__istartswith=value))
