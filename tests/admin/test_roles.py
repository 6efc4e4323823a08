"""Role groups: created by migration 0004, kept in sync by `setup_roles`; clinic admins add staff."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command
from django.urls import reverse

from intake.admin import audit
from intake.models import Role, StaffMembership
from intake.services.roles import ROLE_PERMISSIONS, role_permissions, roles_sync, wanted_permissions

pytestmark = pytest.mark.django_db


def held(role: str) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=role).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_every_role_has_a_group_with_exactly_its_permissions() -> None:
    existing = {
        f"{p.content_type.app_label}.{p.codename}" for p in Permission.objects.select_related("content_type")
    }
    for role in Role.values:
        assert held(role) == wanted_permissions(role) & existing


def test_reception_handles_no_flags_and_clinic_admin_no_clinical_data() -> None:
    assert not {p for p in held(Role.RECEPTION) if "referralflag" in p}
    assert "intake.change_intake" not in held(Role.RECEPTION)
    clinical = ("patient", "intake", "referralflag")
    assert not {p for p in held(Role.CLINIC_ADMIN) if p.split("_", 1)[1] in clinical}
    assert "intake.change_referralflag" in held(Role.COORDINATOR)
    assert "intake.add_webhooksubscription" in held(Role.CLINIC_ADMIN)


def test_setup_roles_repairs_drift_and_check_reports_it() -> None:
    group = Group.objects.get(name=Role.RECEPTION)
    group.permissions.add(Permission.objects.get(codename="change_referralflag"))
    Group.objects.filter(name=Role.COORDINATOR).delete()
    with pytest.raises(CommandError):
        call_command("setup_roles", "--check", stdout=StringIO())
    out = StringIO()
    call_command("setup_roles", stdout=out)
    assert "reception: remove intake.change_referralflag" in out.getvalue()
    assert "coordinator: create group" in out.getvalue()
    call_command("setup_roles", "--check", stdout=StringIO())  # now in sync
    assert all(not sync.changed for sync in roles_sync())


def test_role_permissions_reads_the_groups() -> None:
    found = role_permissions([Role.COORDINATOR])
    assert found[Role.COORDINATOR] == held(Role.COORDINATOR)


def test_roles_cover_every_role() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role.values)


def test_clinic_admin_adds_a_new_staff_member(staff_for: Any, clinic: Any) -> None:
    client = staff_for(Role.CLINIC_ADMIN, clinic)
    response = client.post(
        reverse("admin:intake_staffmembership_add"),
        {
            "clinic": clinic.pk,
            "role": Role.COORDINATOR,
            "username": "new.coordinator",
            "email": "nc@example.invalid",
            "password": "a-long-unusual-passphrase-42",
        },
    )
    assert response.status_code == 302
    membership = StaffMembership.objects.get(user__username="new.coordinator")
    assert (membership.clinic, membership.role, membership.user.is_staff) == (clinic, Role.COORDINATOR, True)
    assert membership.user.check_password("a-long-unusual-passphrase-42")


def test_clinic_admin_cannot_add_staff_to_another_clinic(
    staff_for: Any, clinic: Any, other_clinic: Any
) -> None:
    client = staff_for(Role.CLINIC_ADMIN, clinic)
    response = client.post(
        reverse("admin:intake_staffmembership_add"),
        {
            "clinic": other_clinic.pk,
            "role": Role.CLINIC_ADMIN,
            "username": "x",
            "password": "a-long-unusual-passphrase-42",
        },
    )
    assert response.status_code == 200
    assert not StaffMembership.objects.filter(clinic=other_clinic).exists()


def test_adding_an_existing_user_keeps_their_password(staff_for: Any, clinic: Any, other_clinic: Any) -> None:
    existing = staff_for(Role.CLINICIAN, other_clinic).user
    client = staff_for(Role.CLINIC_ADMIN, clinic)
    client.post(
        reverse("admin:intake_staffmembership_add"),
        {
            "clinic": clinic.pk,
            "role": Role.CLINICIAN,
            "username": existing.username,
            "password": "ignored-pass-123",
        },
    )
    existing.refresh_from_db()
    assert existing.check_password("correct-horse-battery")
    assert set(existing.memberships.values_list("clinic_id", flat=True)) == {clinic.pk, other_clinic.pk}


def test_audit_admin_registers_only_a_clinic_scoped_model() -> None:
    from django.contrib import admin

    assert audit.register(None) is False
    model = next(m for m in admin.site._registry if m._meta.model_name == "patient")
    assert audit.register(model) is False  # already registered: left alone


def test_clinic_admin_reads_only_their_clinics_audit_trail(
    staff_for: Any, clinic: Any, other_clinic: Any
) -> None:
    from intake import models

    audit_event = getattr(models, "AuditEvent", None)
    assert audit_event is not None, "intake.models.AuditEvent (issue: audit trail) is expected here"
    fields = {"actor": "user:1", "action": "read", "object_type": "patient", "outcome": "success"}
    fields.update(status_code=200, method="GET", path="/api/v1/patients/")
    mine = audit_event.objects.create(clinic=clinic, **fields)
    audit_event.objects.create(clinic=other_clinic, **fields)
    url = reverse("admin:intake_auditevent_changelist")
    admin_client = staff_for(Role.CLINIC_ADMIN, clinic)
    response = admin_client.get(url)
    assert response.status_code == 200
    assert [event.pk for event in response.context["cl"].result_list] == [mine.pk]
    change = admin_client.post(reverse("admin:intake_auditevent_change", args=[mine.pk]), {"actor": "x"})
    assert change.status_code == 403
    assert staff_for(Role.CLINICIAN, clinic).get(url).status_code == 403
