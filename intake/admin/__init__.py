"""Staff UI: each staff user sees and acts on only their own clinics' records, as their role allows.

Modules: `scoping` (per-clinic permissions from role groups), `clinics` (clinic settings, staff,
integrations), `patients` (with score charts), `intakes` (paper entry, corrections, read-only
results), `flags` (the coordinator worklist) and `audit` (read-only, when the model exists).
"""

from __future__ import annotations

from django.contrib import admin

from . import audit, clinics, flags, intakes, patients
from .scoping import ClinicScopedAdmin, ClinicScopedInline, access_of, actor_for_staff, clinic_ids_of

admin.site.site_header = "Clinic intake — staff"
admin.site.site_title = "Clinic intake"
admin.site.index_title = "Staff tasks"

__all__ = [
    "ClinicScopedAdmin",
    "ClinicScopedInline",
    "access_of",
    "actor_for_staff",
    "audit",
    "clinic_ids_of",
    "clinics",
    "flags",
    "intakes",
    "patients",
]


# --- Webhooks (delivery) ---
# Self-contained: subscriptions, the delivery log with dead letters and redelivery, and
# re-stratification jobs (those over every clinic: superusers only), for superusers and each
# clinic's administrators (the README (Delivery section)). Redelivery is the one write besides subscriptions.
from typing import Any as _Any  # noqa: E402

from django import forms as _forms  # noqa: E402
from django.contrib import messages as _messages  # noqa: E402
from django.db import transaction as _transaction  # noqa: E402
from django.db.models import QuerySet as _QuerySet  # noqa: E402
from django.http import HttpRequest as _HttpRequest  # noqa: E402

from intake import models as _m  # noqa: E402
from intake.services import delivery as _delivery  # noqa: E402
from intake.services import ssrf as _ssrf  # noqa: E402
from intake.services.webhook_signature import new_secret as _new_secret  # noqa: E402


def _admin_clinic_ids(request: _HttpRequest) -> list[int] | None:
    """Clinics the user administers; None for a superuser (all clinics)."""
    user: _Any = request.user
    if getattr(user, "is_superuser", False):
        return None
    if not user.is_authenticated:
        return []  # the login page lists apps for an anonymous user too
    return list(
        _m.StaffMembership.objects.filter(user=user, role=_m.Role.CLINIC_ADMIN).values_list(
            "clinic_id", flat=True
        )
    )


class _ClinicAdminOnly(admin.ModelAdmin):
    clinic_lookup = "clinic"

    def get_queryset(self, request: _HttpRequest) -> _QuerySet[_Any]:
        queryset = super().get_queryset(request)
        clinic_ids = _admin_clinic_ids(request)
        if clinic_ids is None:
            return queryset
        return queryset.filter(**{f"{self.clinic_lookup}__in": clinic_ids})

    def has_module_permission(self, request: _HttpRequest) -> bool:
        clinic_ids = _admin_clinic_ids(request)
        return clinic_ids is None or bool(clinic_ids)

    def has_view_permission(self, request: _HttpRequest, obj: _Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: _HttpRequest, *args: _Any) -> bool:
        return False

    def has_change_permission(self, request: _HttpRequest, obj: _Any = None) -> bool:
        return False

    def has_delete_permission(self, request: _HttpRequest, obj: _Any = None) -> bool:
        return False


class _WebhookSubscriptionForm(_forms.ModelForm):
    url = _forms.URLField(max_length=2000, assume_scheme="https")
    event_types = _forms.MultipleChoiceField(choices=[(t, t) for t in _delivery.EVENT_TYPES])

    class Meta:
        model = _m.WebhookSubscription
        fields = ["clinic", "url", "description", "event_types", "format", "is_active"]

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        try:
            _ssrf.resolve_target(url)
        except _ssrf.UnsafeWebhookTarget as exc:
            raise _forms.ValidationError(str(exc)) from exc
        return url


@admin.register(_m.WebhookSubscription)
class WebhookSubscriptionAdmin(_ClinicAdminOnly):
    form = _WebhookSubscriptionForm
    list_display = ["url", "clinic", "format", "is_active", "paused_until", "created_at"]
    list_filter = ["is_active", "format"]
    search_fields = ["url", "description"]

    def has_add_permission(self, request: _HttpRequest, *args: _Any) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: _HttpRequest, obj: _Any = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: _HttpRequest, obj: _Any = None) -> bool:
        return self.has_module_permission(request)

    def formfield_for_foreignkey(self, db_field: _Any, request: _HttpRequest, **kwargs: _Any) -> _Any:
        clinic_ids = _admin_clinic_ids(request)
        if db_field.name == "clinic" and clinic_ids is not None:
            kwargs["queryset"] = _m.Clinic.objects.filter(pk__in=clinic_ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: _HttpRequest, obj: _Any, form: _Any, change: bool) -> None:
        if not change:
            obj.secret = _new_secret()
            obj.created_by = f"user:{request.user.pk}"
        was_paused, obj.paused_until = obj.paused_until is not None, None  # saving lifts a pause
        super().save_model(request, obj, form, change)
        if was_paused:
            _transaction.on_commit(lambda: _delivery.subscription_resume(subscription_id=obj.pk))
        if not change:
            self.message_user(
                request,
                f"Signing secret (shown only now, store it with the receiver): {obj.secret}",
                _messages.WARNING,
            )


class _WebhookAttemptInline(admin.TabularInline):
    model = _m.WebhookAttempt
    fields = ("number", "attempted_at", "status_code", "latency_ms", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: _HttpRequest, obj: _Any = None) -> bool:
        return False


@admin.register(_m.WebhookDelivery)
class WebhookDeliveryAdmin(_ClinicAdminOnly):
    clinic_lookup = "subscription__clinic"
    list_display = ["event", "subscription", "status", "attempt_count", "last_status_code", "next_attempt_at"]
    list_filter = ["status"]
    list_select_related = ["event", "subscription"]
    readonly_fields = (
        "subscription",
        "event",
        "status",
        "attempt_count",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "delivered_at",
        "dead_at",
        "created_at",
    )
    fields = readonly_fields
    inlines = [_WebhookAttemptInline]
    actions = ["redeliver"]

    @admin.action(description="Redeliver now (fresh retry schedule)")
    def redeliver(self, request: _HttpRequest, queryset: _QuerySet[_Any]) -> None:
        count = 0
        for delivery in queryset:
            _delivery.delivery_redeliver(delivery=delivery)
            count += 1
        self.message_user(request, f"{count} deliveries queued again.")


@admin.register(_m.FlagNotification)
class FlagNotificationAdmin(_ClinicAdminOnly):
    clinic_lookup = "flag__clinic"
    list_display = ["flag", "kind", "recipients", "sent_at", "created_at"]
    list_filter = ["kind"]
    readonly_fields = ["flag", "kind", "recipients", "sent_at", "created_at"]


@admin.register(_m.RestratificationJob)
class RestratificationJobAdmin(_ClinicAdminOnly):
    list_display = ["ruleset", "clinic", "status", "total", "created", "skipped", "failed", "started_at"]
    list_filter = ["status", "ruleset"]
    readonly_fields = [
        "ruleset",
        "clinic",
        "status",
        "batch_size",
        "total",
        "batches_total",
        "batches_done",
        "created",
        "skipped",
        "failed",
        "started_at",
        "finished_at",
    ]
