"""Staff roles as Django groups: one group per `Role`, holding exactly the model permissions the
role needs. The data migration `0004_roles` creates them and `manage.py setup_roles` re-syncs them.

A membership's role implies its group *within that clinic only*: the admin reads the group's
permissions for the role a user holds in the clinic a record belongs to (`role_permissions`), so a
user who is reception in one clinic and coordinator in another is a coordinator only in the second.
Users are therefore not added to the groups; the groups are where the permissions are kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.contrib.auth import get_user_model
from django.db import transaction

from intake.models import Clinic, Role, StaffMembership

VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"

# role → {"app_label.model_name": actions}. Model names are lower-case, as in permission codenames.
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    # Registers patients and transcribes paper intakes; sees the scores it entered; no flag work.
    Role.RECEPTION: {
        "intake.patient": (VIEW, ADD, CHANGE),
        "intake.patientidentifier": (VIEW, ADD, CHANGE, DELETE),
        "intake.intake": (VIEW, ADD),
    },
    # Works the referral flag worklist (transitions are `change`); reads patients and intakes.
    Role.COORDINATOR: {
        "intake.patient": (VIEW,),
        "intake.patientidentifier": (VIEW,),
        "intake.intake": (VIEW,),
        "intake.referralflag": (VIEW, CHANGE),
        "intake.flagevent": (VIEW,),
    },
    # All clinical data: patients, intakes (including corrections, which are `change`) and flags.
    Role.CLINICIAN: {
        "intake.patient": (VIEW, ADD, CHANGE),
        "intake.patientidentifier": (VIEW, ADD, CHANGE, DELETE),
        "intake.intake": (VIEW, ADD, CHANGE),
        "intake.referralflag": (VIEW, CHANGE),
        "intake.flagevent": (VIEW,),
    },
    # The clinic's users, settings and integrations, and its audit trail (read only). No clinical data.
    Role.CLINIC_ADMIN: {
        "intake.clinic": (VIEW, CHANGE),
        "intake.staffmembership": (VIEW, ADD, CHANGE, DELETE),
        "intake.integrationclient": (VIEW, CHANGE),
        "intake.webhooksubscription": (VIEW, ADD, CHANGE, DELETE),
        "intake.webhookdelivery": (VIEW,),
        "intake.webhookattempt": (VIEW,),
        "intake.auditevent": (VIEW,),
    },
}

# Built by other issues; until their models exist the permissions are simply not there to grant.
OPTIONAL_MODELS = frozenset(
    {"intake.webhooksubscription", "intake.webhookdelivery", "intake.webhookattempt", "intake.auditevent"}
)


def role_group_name(role: str) -> str:
    """The group of a role is named by the role's code (the contract code, e.g. `coordinator`)."""
    return str(role)


def wanted_permissions(role: str) -> set[str]:
    """The role's permissions as "app_label.codename" strings."""
    return {
        f"{model.split('.')[0]}.{action}_{model.split('.')[1]}"
        for model, actions in ROLE_PERMISSIONS[role].items()
        for action in actions
    }


@dataclass
class RoleSync:
    """What syncing one role's group changed, and which permissions do not exist (yet)."""

    role: str
    created: bool = False
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.created or bool(self.added or self.removed)


def roles_sync(*, apps: Apps | Any = global_apps, dry_run: bool = False) -> list[RoleSync]:
    """Make each role's group hold exactly the role's permissions. Idempotent.

    `apps` is the historical registry when called from a migration. Permissions of models that do
    not exist are reported in `missing`, never an error (see OPTIONAL_MODELS).
    """
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    report: list[RoleSync] = []
    for role in ROLE_PERMISSIONS:
        wanted = wanted_permissions(role)
        by_name = {
            f"{app_label}.{codename}": pk
            for pk, app_label, codename in permission_model.objects.filter(
                codename__in=[name.split(".")[1] for name in wanted]
            ).values_list("pk", "content_type__app_label", "codename")
            if f"{app_label}.{codename}" in wanted
        }
        group = group_model.objects.filter(name=role_group_name(role)).first()
        sync = RoleSync(role=str(role), created=group is None, missing=sorted(wanted - set(by_name)))
        current: dict[str, int] = {}
        if group is not None:
            current = {
                f"{app_label}.{codename}": pk
                for pk, app_label, codename in group.permissions.values_list(
                    "pk", "content_type__app_label", "codename"
                )
            }
        sync.added = sorted(set(by_name) - set(current))
        sync.removed = sorted(set(current) - set(by_name))
        if not dry_run:
            if group is None:
                group = group_model.objects.create(name=role_group_name(role))
            if sync.added or sync.removed:
                group.permissions.set(by_name.values())
        report.append(sync)
    return report


def roles_remove(*, apps: Apps | Any = global_apps) -> None:
    """Delete the role groups (the migration's reverse)."""
    apps.get_model("auth", "Group").objects.filter(
        name__in=[role_group_name(role) for role in ROLE_PERMISSIONS]
    ).delete()


def role_permissions(roles: Iterable[str]) -> dict[str, frozenset[str]]:
    """role → the "app_label.codename" permissions its group holds now (one query)."""
    from django.contrib.auth.models import Permission

    names = {role_group_name(role): str(role) for role in roles}
    held: dict[str, set[str]] = {role: set() for role in names.values()}
    rows = Permission.objects.filter(group__name__in=list(names)).values_list(
        "group__name", "content_type__app_label", "codename"
    )
    for group_name, app_label, codename in rows:
        held[names[group_name]].add(f"{app_label}.{codename}")
    return {role: frozenset(perms) for role, perms in held.items()}


def staff_member_add(
    *,
    clinic: Clinic,
    role: str,
    username: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    password: str | None = None,
) -> StaffMembership:
    """Give a user a role in a clinic, creating the (staff) user account when it does not exist.

    An existing user keeps their password and other clinics; a new one needs `password`.
    """
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.filter(username=username).first()
        if user is None:
            if not password:
                raise ValueError("A new user needs an initial password.")
            user = user_model.objects.create_user(
                username=username,
                email=email,
                password=password,
                first_name=first_name,
                last_name=last_name,
                is_staff=True,
            )
        elif not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        return StaffMembership.objects.create(user=user, clinic=clinic, role=role)
