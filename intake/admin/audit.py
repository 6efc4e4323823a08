"""The audit trail, read only, for the clinic administrators of each clinic (and superusers).

The `AuditEvent` model belongs to another issue: registered only when `intake.models` has it.
Clinic admins see their clinic's rows (role `clinic_admin` holds `intake.view_auditevent` once
`manage.py setup_roles` has run after its migration); rows without a clinic are for superusers;
nobody can add, change or delete.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from intake import models

from .scoping import ClinicScopedAdmin


class AuditEventAdmin(ClinicScopedAdmin):
    """Generic read-only listing: every concrete field shown, none editable."""

    def get_list_display(self, request: HttpRequest) -> Any:
        return [f.name for f in self.model._meta.concrete_fields if f.name != "id"][:8]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.concrete_fields]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def register(model: Any, site: admin.AdminSite = admin.site) -> bool:
    """Register the read-only admin for `model` if it is a clinic's audit model; True if done."""
    if model is None or site.is_registered(model):
        return False
    field_names = {f.name for f in model._meta.get_fields()}
    if "clinic" not in field_names:
        return False  # cannot be scoped to a clinic: leave it to superusers via the shell
    options: dict[str, Any] = {}
    for name in ("at", "occurred_at", "created_at"):
        if name in field_names:
            options["date_hierarchy"] = name
            options["ordering"] = [f"-{name}"]
            break
    options["list_filter"] = [name for name in ("action", "outcome", "object_type") if name in field_names]
    options["search_fields"] = [name for name in ("actor", "object_id", "path") if name in field_names]
    site.register(model, type("AuditEventAdmin", (AuditEventAdmin,), options))
    return True


register(getattr(models, "AuditEvent", None))
