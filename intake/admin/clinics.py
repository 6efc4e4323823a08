"""Clinic settings, staff memberships and integration clients: the clinic administrator's pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from intake.auth import ALL_SCOPES, validate_scopes
from intake.batteries import FORMS
from intake.models import Clinic, IntegrationClient, StaffMembership
from intake.services.roles import staff_member_add

from .scoping import ClinicScopedAdmin, access_of, perm_name


class ClinicForm(forms.ModelForm):
    enabled_forms = forms.MultipleChoiceField(
        choices=[(form.code, f"{form.title} ({form.code})") for form in FORMS.values()],
        widget=forms.CheckboxSelectMultiple,
        help_text="The intake forms this clinic uses.",
    )

    class Meta:
        model = Clinic
        fields = [
            "name",
            "slug",
            "is_active",
            "timezone",
            "enabled_forms",
            "emergency_due_within_minutes",
            "urgent_due_within_hours",
            "routine_due_within_working_days",
        ]


@admin.register(Clinic)
class ClinicAdmin(ClinicScopedAdmin):
    clinic_field = "pk"
    form = ClinicForm
    list_display = ["name", "slug", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "is_active", "timezone", "enabled_forms"]}),
        (
            "Referral flag due times",
            {
                "fields": [
                    "emergency_due_within_minutes",
                    "urgent_due_within_hours",
                    "routine_due_within_working_days",
                ],
                "description": (
                    "Defaults from docs/clinical-reference.md §23: 1 hour, 24 hours, 5 working days."
                ),
            },
        ),
    ]

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> dict[str, Any]:
        return {"slug": ["name"]} if obj is None else {}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The slug names the clinic to integrations; switching a clinic off is the operator's call.
        return [] if access_of(request).is_superuser else ["slug", "is_active"]


class StaffMembershipAddForm(forms.ModelForm):
    """Add a person to a clinic: an existing user by username, or a new staff account."""

    username = forms.CharField(max_length=150, help_text="An existing user is added to this clinic too.")
    email = forms.EmailField(required=False)
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    password = forms.CharField(
        label="Initial password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Only for a new user; give it to them privately and ask them to change it.",
    )

    class Meta:
        model = StaffMembership
        fields = ["clinic", "role"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        username, clinic = data.get("username"), data.get("clinic")
        user = get_user_model().objects.filter(username=username).first() if username else None
        if user is not None and clinic is not None:
            if StaffMembership.objects.filter(user=user, clinic=clinic).exists():
                self.add_error("username", "This user already has a role in this clinic: change that one.")
        elif user is None and username:
            password = data.get("password")
            if not password:
                self.add_error("password", "A new user needs an initial password.")
            else:
                candidate = get_user_model()(username=username, email=data.get("email", ""))
                try:
                    validate_password(password, candidate)
                except forms.ValidationError as exc:
                    self.add_error("password", exc)
        return data


@admin.register(StaffMembership)
class StaffMembershipAdmin(ClinicScopedAdmin):
    list_display = ["user", "full_name", "clinic", "role", "created_at"]
    list_filter = ["role", "clinic"]
    search_fields = ["user__username", "user__email", "user__first_name", "user__last_name"]
    list_select_related = ["user", "clinic"]

    @admin.display(description="Name")
    def full_name(self, obj: StaffMembership) -> str:
        return obj.user.get_full_name()

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = StaffMembershipAddForm
            kwargs["fields"] = [
                "clinic",
                "role",
                "username",
                "email",
                "first_name",
                "last_name",
                "password",
            ]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["clinic", "role", "username", "email", "first_name", "last_name", "password"]
        return ["user", "clinic", "role", "created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if obj is None else ["user", "clinic", "created_at"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        if not access_of(request).has(perm_name(StaffMembership, "add"), obj.clinic_id):
            raise PermissionDenied
        data = form.cleaned_data
        created = staff_member_add(
            clinic=obj.clinic,
            role=obj.role,
            username=data["username"],
            email=data.get("email", ""),
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
            password=data.get("password") or None,
        )
        obj.pk, obj.user, obj.created_at = created.pk, created.user, created.created_at
        obj._state.adding = False


class IntegrationClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(scope, scope) for scope in sorted(ALL_SCOPES)],
        widget=forms.CheckboxSelectMultiple,
        help_text="The most this client may ever be granted.",
    )

    class Meta:
        model = IntegrationClient
        fields = ["scopes"]

    def clean_scopes(self) -> list[str]:
        try:
            return validate_scopes(self.cleaned_data["scopes"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc


@admin.register(IntegrationClient)
class IntegrationClientAdmin(ClinicScopedAdmin):
    form = IntegrationClientForm
    list_display = ["application", "client_id", "clinic", "scopes", "created_at"]
    list_filter = ["clinic"]
    search_fields = ["application__name", "application__client_id"]
    list_select_related = ["application", "clinic"]
    fields = ["application", "client_id", "clinic", "scopes", "created_at"]
    readonly_fields = ["application", "client_id", "clinic", "created_at"]

    @admin.display(description="Client id")
    def client_id(self, obj: IntegrationClient) -> str:
        return str(obj.application.client_id)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # created with `manage.py create_integration`, which shows the secret once
