"""Create the staff role groups and give each exactly its permissions (safe to run any time)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from intake.services.roles import OPTIONAL_MODELS, roles_sync


class Command(BaseCommand):
    help = (
        "Sync the reception, coordinator, clinician and clinic_admin groups with the permissions "
        "each role needs. Run after migrations that add models a role uses."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="Change nothing; exit 1 if any group is out of sync."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        check = options["check"]
        report = roles_sync(dry_run=check)
        for sync in report:
            verb = "would " if check else ""
            parts = []
            if sync.created:
                parts.append(f"{verb}create group")
            if sync.added:
                parts.append(f"{verb}add {', '.join(sync.added)}")
            if sync.removed:
                parts.append(f"{verb}remove {', '.join(sync.removed)}")
            self.stdout.write(f"{sync.role}: {'; '.join(parts) if parts else 'in sync'}")
            for name in sync.missing:
                model = name.split(".")[0] + "." + name.split(".")[1].split("_", 1)[1]
                note = " (model not installed yet)" if model in OPTIONAL_MODELS else ""
                self.stdout.write(f"  not granted, no such permission: {name}{note}")
        if check and any(sync.changed for sync in report):
            raise CommandError("Role groups are out of sync: run `manage.py setup_roles`.")
