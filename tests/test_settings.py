"""Settings come from the environment: an embedded default, or URLs for real services."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from intake.checks import notification_base_url_check

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "engine": s.DATABASES["default"]["ENGINE"],
    "name": str(s.DATABASES["default"]["NAME"]),
    "host": s.DATABASES["default"].get("HOST"),
    "eager": s.CELERY_TASK_ALWAYS_EAGER,
    "broker": s.CELERY_BROKER_URL,
    "debug": s.DEBUG,
    "hosts": s.ALLOWED_HOSTS,
    "hsts": getattr(s, "SECURE_HSTS_SECONDS", 0),
    "email": s.EMAIL_BACKEND,
    "notification_base_url": s.NOTIFICATION_BASE_URL,
}))
"""


def _settings_with(**env: str) -> dict:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "DEBUG",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "EMAIL_URL",
            "NOTIFICATION_BASE_URL",
        }
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="clinic_service.settings")
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_embedded_default_is_sqlite_with_eager_celery():
    s = _settings_with()
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"].endswith("db.sqlite3")
    assert s["eager"] is True
    assert s["broker"] == "memory://"
    assert s["debug"] is True
    assert s["email"].endswith("console.EmailBackend")


def test_empty_service_urls_mean_the_embedded_default():
    s = _settings_with(DATABASE_URL="", REDIS_URL="")
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["eager"] is True


def test_urls_configure_postgres_and_redis():
    s = _settings_with(
        DATABASE_URL="postgres://clinic@db.internal:5432/intake", REDIS_URL="redis://cache:6379/2"
    )
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["name"] == "intake" and s["host"] == "db.internal"
    assert s["eager"] is False
    assert s["broker"] == "redis://cache:6379/2"


def test_production_requires_a_secret_key():
    clean = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    clean.update(DEBUG="false", DJANGO_SETTINGS_MODULE="clinic_service.settings")
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_mode_passes_check_deploy_without_warnings():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DEBUG="false",
        SECRET_KEY="x" * 30 + "-production-like-secret-" + "y" * 30,
        ALLOWED_HOSTS="intake.example.org",
        DJANGO_SETTINGS_MODULE="clinic_service.settings",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_are_hardened():
    s = _settings_with(DEBUG="false", SECRET_KEY="s" * 60, ALLOWED_HOSTS="intake.example.org")
    assert s["debug"] is False
    assert s["hsts"] >= 31_536_000
    assert s["hosts"] == ["intake.example.org"]


def test_production_links_emails_to_the_first_named_allowed_host():
    s = _settings_with(DEBUG="false", SECRET_KEY="s" * 60, ALLOWED_HOSTS=".example.org,intake.example.org")
    assert s["notification_base_url"] == "https://intake.example.org"


def test_notification_base_url_can_be_set():
    s = _settings_with(NOTIFICATION_BASE_URL="https://staff.example.org/")
    assert s["notification_base_url"] == "https://staff.example.org/"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000", "https://localhost", "https://[::1]:8443", "http://intake.example.org"]
)
def test_check_deploy_warns_when_email_links_cannot_reach_coordinators(settings, url):
    settings.NOTIFICATION_BASE_URL = url
    assert [m.id for m in notification_base_url_check()] == ["intake.W001"]


def test_check_deploy_accepts_a_public_https_base(settings):
    settings.NOTIFICATION_BASE_URL = "https://intake.example.org"
    assert notification_base_url_check() == []
