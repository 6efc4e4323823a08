"""Clinic scoping for the staff UI: what a user may see and do, clinic by clinic.

A staff user's permissions in a clinic are those of the role group (`intake.services.roles`) named
by their membership role *in that clinic*; superusers may do everything everywhere. Every
ModelAdmin here filters its rows to the clinics where the user holds the view (or change)
permission, so another clinic's records are simply not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from intake.auth import ALL_SCOPES, ROLE_SCOPES, Actor
from intake.models import Clinic, StaffMembership
from intake.services.roles import role_permissions


@dataclass(frozen=True)
class ClinicAccess:
    """One user's roles per clinic and the permissions each role's group holds."""

    is_superuser: bool
    roles: dict[int, str]  # clinic id → role
    permissions: dict[str, frozenset[str]]  # role → "app_label.codename"

    def has(self, perm: str, clinic_id: int | None) -> bool:
        if self.is_superuser:
            return True
        role = self.roles.get(clinic_id) if clinic_id is not None else None
        return role is not None and perm in self.permissions.get(role, frozenset())

    def clinics_with(self, *perms: str) -> list[int] | None:
        """Clinic ids where the user holds any of `perms`; None means every clinic (superuser)."""
        if self.is_superuser:
            return None
        return sorted(
            clinic_id
            for clinic_id, role in self.roles.items()
            if self.permissions.get(role, frozenset()) & set(perms)
        )

    def has_anywhere(self, *perms: str) -> bool:
        found = self.clinics_with(*perms)
        return found is None or bool(found)


def access_of(request: HttpRequest) -> ClinicAccess:
    """The requesting user's access, computed once per request."""
    cached: ClinicAccess | None = getattr(request, "_clinic_access", None)
    if cached is not None:
        return cached
    user: Any = request.user
    roles: dict[int, str] = {}
    if user.is_authenticated and user.is_active:
        roles = dict(
            StaffMembership.objects.filter(user=user, clinic__is_active=True).values_list("clinic_id", "role")
        )
    access = ClinicAccess(
        is_superuser=bool(user.is_active and user.is_superuser),
        roles=roles,
        permissions=role_permissions(set(roles.values())) if roles else {},
    )
    request._clinic_access = access  # type: ignore[attr-defined]
    return access


def clinic_ids_of(request: HttpRequest) -> list[int]:
    """Every clinic the user is a member of (whatever the role)."""
    return sorted(access_of(request).roles)


def perm_name(model: type[Model] | Model, action: str) -> str:
    opts = model._meta
    return f"{opts.app_label}.{get_permission_codename(action, opts)}"


def clinic_id_of(obj: Model, clinic_field: str) -> int | None:
    """The clinic a record belongs to, following `clinic_field` ("pk", "clinic", "patient__clinic")."""
    if clinic_field == "pk":
        return obj.pk
    *path, last = clinic_field.split("__")
    target: Any = obj
    for step in path:
        target = getattr(target, step)
    return getattr(target, f"{last}_id")


def not_found_redirect(request: HttpRequest, model: type[Model], object_id: str) -> HttpResponseRedirect:
    """What Django's admin does for a record outside the user's queryset: back to the index."""
    name = str(model._meta.verbose_name).capitalize()
    messages.warning(request, f"{name} with ID “{object_id}” doesn’t exist. Perhaps it was deleted?")
    return HttpResponseRedirect(reverse("admin:index"))


def actor_for_staff(request: HttpRequest, clinic: Clinic) -> Actor:
    """The service-layer actor for a staff user acting in one clinic (the API's scopes for the role)."""
    role = access_of(request).roles.get(clinic.pk)
    scopes = ROLE_SCOPES[role] if role else ALL_SCOPES  # no role: a superuser
    return Actor(clinic=clinic, scopes=scopes, user_id=request.user.pk, role=role)


class ClinicScopedPermissions:
    """has_*_permission and has_module_permission answered per clinic from the role groups."""

    clinic_field = "clinic"
    model: type[Model]

    def _perm(self, action: str) -> str:
        return perm_name(self.model, action)

    def _allowed(self, request: HttpRequest, action: str, obj: Model | None) -> bool:
        access = access_of(request)
        perms = [self._perm(action)]
        if action == "view":
            perms.append(self._perm("change"))  # as in Django: change implies view
        if obj is None:
            return access.has_anywhere(*perms)
        clinic_id = clinic_id_of(obj, self.clinic_field)
        return any(access.has(perm, clinic_id) for perm in perms)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, "view", obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._allowed(request, "add", None)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, "change", obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, "delete", obj)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return any(self._allowed(request, action, None) for action in ("view", "add", "change", "delete"))


class ClinicScopedAdmin(ClinicScopedPermissions, admin.ModelAdmin):
    """Limits rows and clinic choices to the clinics where the user's role allows them."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        clinic_ids = access_of(request).clinics_with(self._perm("view"), self._perm("change"))
        if clinic_ids is None:
            return queryset
        return queryset.filter(**{f"{self.clinic_field}__in": clinic_ids})

    def clinics_for(self, request: HttpRequest, action: str) -> QuerySet[Clinic]:
        """The clinics in which the user may `action` this model."""
        clinic_ids = access_of(request).clinics_with(self._perm(action))
        clinics = Clinic.objects.all()
        return clinics if clinic_ids is None else clinics.filter(pk__in=clinic_ids)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # The clinic choices are already limited; this refuses a clinic where only the other
        # action (add vs change) is allowed.
        action = "change" if change else "add"
        if self.clinic_field != "pk" and not access_of(request).has(
            self._perm(action), clinic_id_of(obj, self.clinic_field)
        ):
            raise PermissionDenied
        super().save_model(request, obj, form, change)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "clinic" and db_field.related_model is Clinic:
            allowed = self.clinics_for(request, "add") | self.clinics_for(request, "change")
            kwargs["queryset"] = allowed.distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ClinicScopedInline(ClinicScopedPermissions):
    """Inline permissions follow the parent record's clinic (`obj` is the parent)."""

    def _allowed(self, request: HttpRequest, action: str, obj: Model | None) -> bool:
        access = access_of(request)
        perms = [self._perm(action)] + ([self._perm("change")] if action == "view" else [])
        if obj is None:
            return access.has_anywhere(*perms)
        parent_clinic = clinic_id_of(obj, "clinic")
        return any(access.has(perm, parent_clinic) for perm in perms)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        obj = args[0] if args else None
        return self._allowed(request, "add", obj)
