"""Staff UI: each staff user sees and edits only their own clinics' records."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from intake.models import Clinic, IntegrationClient, Patient, PatientIdentifier, StaffMembership


def clinic_ids_of(request: HttpRequest) -> list[int]:
    user: Any = request.user
    return list(StaffMembership.objects.filter(user=user).values_list("clinic_id", flat=True))


class ClinicScopedAdmin(admin.ModelAdmin):
    """Limits rows and clinic choices to the staff user's clinics (superusers see all)."""

    clinic_field = "clinic"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if getattr(request.user, "is_superuser", False):
            return queryset
        return queryset.filter(**{f"{self.clinic_field}__in": clinic_ids_of(request)})

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "clinic" and not getattr(request.user, "is_superuser", False):
            kwargs["queryset"] = Clinic.objects.filter(pk__in=clinic_ids_of(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Clinic)
class ClinicAdmin(ClinicScopedAdmin):
    clinic_field = "pk"
    list_display = ["name", "slug", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class PatientIdentifierInline(admin.TabularInline):
    model = PatientIdentifier
    fields = ["system", "value"]
    extra = 1


@admin.register(Patient)
class PatientAdmin(ClinicScopedAdmin):
    list_display = ["family_name", "given_name", "birth_date", "gender", "clinic", "is_active"]
    list_filter = ["is_active", "gender", "clinic"]
    search_fields = ["family_name", "given_name", "identifiers__value"]
    date_hierarchy = "created_at"
    inlines = [PatientIdentifierInline]
    readonly_fields = ["id", "created_at", "updated_at"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # patients are deactivated, never deleted

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        for identifier_form in formset.forms:
            if hasattr(identifier_form, "instance") and isinstance(
                identifier_form.instance, PatientIdentifier
            ):
                identifier_form.instance.clinic_id = form.instance.clinic_id
        super().save_formset(request, form, formset, change)


@admin.register(StaffMembership)
class StaffMembershipAdmin(ClinicScopedAdmin):
    list_display = ["user", "clinic", "role", "created_at"]
    list_filter = ["role", "clinic"]
    search_fields = ["user__username", "user__email", "clinic__name"]
    autocomplete_fields = ["user"]


@admin.register(IntegrationClient)
class IntegrationClientAdmin(ClinicScopedAdmin):
    list_display = ["application", "clinic", "scopes", "created_at"]
    list_filter = ["clinic"]
    search_fields = ["application__name", "application__client_id"]
    readonly_fields = ["application", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created with `manage.py create_integration`, which shows the secret once
