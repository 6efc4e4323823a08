"""`make run` seeds the demo clinic: its logins and client secret stay the same between runs."""

from __future__ import annotations

import io
import re
import stat
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core.management import call_command

from intake.models import IntegrationClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _debug(settings):
    settings.DEBUG = True  # seed_demo refuses to run outside DEBUG (the test runner turns it off)


def seed(credentials: Path, *flags: str) -> dict[str, str]:
    """Run seed_demo; returns the printed logins and client secret."""
    out = io.StringIO()
    call_command("seed_demo", "--credentials-file", str(credentials), *flags, stdout=out)
    text = out.getvalue()
    printed = dict(re.findall(r"^\s{4}(admin|reception|coordinator)\s+(\S+)$", text, re.MULTILINE))
    printed["client_secret"] = re.search(r"CLIENT_SECRET='([^']+)'", text)[1]  # type: ignore[index]
    return printed


def test_second_run_keeps_every_password_and_the_client_secret(tmp_path: Path) -> None:
    # given
    credentials = tmp_path / "demo.json"
    first = seed(credentials)

    # when
    second = seed(credentials)

    # then the same values are printed, and they still log in
    assert second == first
    for username in ("admin", "reception", "coordinator"):
        assert get_user_model().objects.get(username=username).check_password(second[username])
    client = IntegrationClient.objects.get(clinic__slug="demo")
    assert check_password(second["client_secret"], client.application.client_secret)
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600


def test_reset_issues_new_credentials(tmp_path: Path) -> None:
    # given
    credentials = tmp_path / "demo.json"
    first = seed(credentials)

    # when
    reset = seed(credentials, "--reset")

    # then nothing is reused, the old secret no longer works and the new ones are kept from now on
    assert all(reset[name] != first[name] for name in first)
    client = IntegrationClient.objects.get(clinic__slug="demo")
    assert not check_password(first["client_secret"], client.application.client_secret)
    assert seed(credentials) == reset


def test_credentials_changed_elsewhere_are_replaced_not_printed_stale(tmp_path: Path) -> None:
    # given a demo password changed in the admin after the last run
    credentials = tmp_path / "demo.json"
    first = seed(credentials)
    user = get_user_model().objects.get(username="reception")
    user.set_password("changed-in-the-admin")
    user.save()

    # when
    second = seed(credentials)

    # then the printed password logs in (a new one), and the others are kept
    assert second["reception"] != first["reception"]
    assert get_user_model().objects.get(username="reception").check_password(second["reception"])
    assert second["admin"] == first["admin"] and second["client_secret"] == first["client_secret"]
