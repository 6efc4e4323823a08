"""Seed a demo clinic with staff users and an integration client, and print how to call the API.

The demo credentials stay the same from one `make run` to the next: they are kept in a file
beside manage.py (`.demo-credentials.json`, mode 600, git-ignored) and reused while they still
log in; `--reset` (`make run RESET_DEMO=1`) issues new ones.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from intake.auth import ALL_SCOPES
from intake.models import Clinic, IntegrationClient, Role, StaffMembership
from intake.services.integrations import integration_client_create, integration_client_rotate_secret

DEMO_CLIENT_NAME = "Demo EHR integration"
DEMO_USERS = [
    ("admin", Role.CLINIC_ADMIN, True),
    ("reception", Role.RECEPTION, False),
    ("coordinator", Role.COORDINATOR, False),
]


class Command(BaseCommand):
    help = "Create (or refresh) the demo clinic, its staff and integration client; prints credentials."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--force", action="store_true", help="Allow outside DEBUG (never in production).")
        parser.add_argument(
            "--reset", action="store_true", help="Issue new demo passwords and a new client secret."
        )
        parser.add_argument(
            "--credentials-file",
            type=Path,
            default=Path(
                os.environ.get("DEMO_CREDENTIALS_FILE") or settings.BASE_DIR / ".demo-credentials.json"
            ),
            help="Where the demo credentials are kept between runs (default: $DEMO_CREDENTIALS_FILE, "
            "else .demo-credentials.json beside manage.py).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError("seed_demo creates known demo accounts: refused outside DEBUG.")
        base = options["base_url"].rstrip("/")
        path: Path = options["credentials_file"]
        kept = {} if options["reset"] else _read_credentials(path)
        kept_passwords: dict[str, str] = kept.get("passwords", {})
        with transaction.atomic():
            clinic, _ = Clinic.objects.get_or_create(slug="demo", defaults={"name": "Demo Back Pain Clinic"})
            passwords = {
                username: self._staff_user(clinic, username, role, superuser, kept_passwords.get(username))
                for username, role, superuser in DEMO_USERS
            }
            client = IntegrationClient.objects.filter(
                clinic=clinic, application__name=DEMO_CLIENT_NAME
            ).first()
            if client is None:
                client, secret = integration_client_create(
                    clinic=clinic, name=DEMO_CLIENT_NAME, scopes=sorted(ALL_SCOPES)
                )
            elif _still_valid(kept.get("client_secret"), client.application.client_secret):
                secret = kept["client_secret"]
            else:
                secret = integration_client_rotate_secret(client=client)
        _write_credentials(path, {"passwords": passwords, "client_secret": secret})

        mrn = f"MRN-{secrets.randbelow(10**8):08d}"
        out = self.stdout.write
        out("")
        out("Demo clinic 'demo' is ready.")
        out(f"  Admin:       {base}/admin/   log in as (username, password):")
        for username, password in passwords.items():
            out(f"    {username:<12} {password}")
        out(f"  API docs:    {base}/api/docs/")
        out("  Integration client (every scope), to paste into a shell for the README's examples:")
        out(f"    export CLIENT_ID='{client.application.client_id}' CLIENT_SECRET='{secret}'")
        out(f"  (kept in {path.name} across restarts; new ones with: make run RESET_DEMO=1)")
        out("")
        out("Example: get a token, then register a patient (paste into a shell):")
        out("")
        out(
            'TOKEN=$(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" '
            f"-d grant_type=client_credentials {base}/o/token/ "
            "| python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')"
        )
        out(
            f'curl -s -X POST {base}/api/v1/patients/ -H "Authorization: Bearer $TOKEN" '
            "-H 'Content-Type: application/json' "
            f'-d \'{{"family_name": "Okafor", "given_name": "Ada", "birth_date": "1971-03-14", '
            f'"gender": "female", "identifiers": [{{"system": "urn:demo:mrn", "value": "{mrn}"}}]}}\''
        )
        search = f"{base}/api/v1/patients/?identifier=urn:demo:mrn|{mrn}"
        out(f"curl -s -H \"Authorization: Bearer $TOKEN\" '{search}'")
        intake = json.dumps(
            {
                "patient": {"identifier": {"system": "urn:demo:mrn", "value": mrn}},
                "form": "lbp-followup",
                "completed_at": timezone.now().replace(microsecond=0).isoformat(),
                "responses": {
                    "nrs": {"pain": 6},
                    "peg": {"p": 6, "e": 5, "g": 5},
                    "odi": {f"s{i}": 2 for i in range(1, 11)},
                    "phq9": {"q1": 2, "q2": 2, "q3": 1, "q4": 2, "q5": 1, "q6": 1, "q7": 1, "q8": 0, "q9": 1},
                    "gad7": {"q1": 1, "q2": 1, "q3": 1, "q4": 1, "q5": 0, "q6": 1, "q7": 0},
                },
            }
        )
        out("# submit an intake: scores, pathway and referral flags come back in the response")
        out(
            f'curl -s -X POST {base}/api/v1/intakes/ -H "Authorization: Bearer $TOKEN" '
            f"-H 'Content-Type: application/json' -H 'Idempotency-Key: demo-{mrn}' -d '{intake}'"
        )
        out("")

    def _staff_user(
        self, clinic: Clinic, username: str, role: str, superuser: bool, kept_password: str | None
    ) -> str:
        user_model = get_user_model()
        user, _ = user_model.objects.get_or_create(
            username=username, defaults={"email": f"{username}@demo.invalid"}
        )
        if kept_password and user.check_password(kept_password):
            password = kept_password
        else:
            password = f"demo-{username}-{secrets.token_hex(4)}"
            user.set_password(password)
        user.is_staff = True
        user.is_superuser = superuser
        user.save()
        StaffMembership.objects.update_or_create(user=user, clinic=clinic, defaults={"role": role})
        return password


def _still_valid(secret: str | None, stored_hash: str) -> bool:
    return bool(secret) and check_password(secret, stored_hash)


def _read_credentials(path: Path) -> dict[str, Any]:
    """The credentials of the last run, or {} when there are none (or the file is not ours)."""
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return kept if isinstance(kept, dict) else {}


def _write_credentials(path: Path, credentials: dict[str, Any]) -> None:
    """Written owner-only: the file holds plain demo passwords and the client secret."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(credentials, handle, indent=2)
    path.chmod(0o600)
