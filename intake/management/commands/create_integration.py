"""Create an EHR integration client and print its credentials once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from intake.auth import ALL_SCOPES
from intake.models import Clinic
from intake.services.integrations import integration_client_create


class Command(BaseCommand):
    help = "Create an OAuth 2.0 client-credentials integration for a clinic; prints id and secret once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clinic", required=True, help="Clinic slug")
        parser.add_argument(
            "--scopes", nargs="+", required=True, help=f"Any of: {' '.join(sorted(ALL_SCOPES))}"
        )
        parser.add_argument("--name", default=None, help="Display name (default: '<clinic> integration')")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            clinic = Clinic.objects.get(slug=options["clinic"])
        except Clinic.DoesNotExist as exc:
            raise CommandError(f"No clinic with slug {options['clinic']!r}.") from exc
        scopes = [s for chunk in options["scopes"] for s in chunk.replace(",", " ").split()]
        try:
            client, secret = integration_client_create(
                clinic=clinic, name=options["name"] or f"{clinic.slug} integration", scopes=scopes
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"client_id={client.application.client_id}")
        self.stdout.write(f"client_secret={secret}")
        self.stdout.write(f"scopes={' '.join(client.scopes)}")
        self.stderr.write("The secret is stored hashed and cannot be shown again.")
