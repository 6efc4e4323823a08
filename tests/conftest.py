"""Shared fixtures, the guard that makes CI fail when a service test was skipped, and the one
seed every property-based test (hypothesis, schemathesis) of a run draws from."""

from __future__ import annotations

import os
import secrets
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.utils import timezone
from oauth2_provider.models import AccessToken, set_token_value
from rest_framework.test import APIClient

from tests.factories import ClinicFactory, IntegrationClientFactory

SERVICE_SKIP_PREFIX = "service unavailable:"
SEED_OPTION = "hypothesis_seed"  # hypothesis's own --hypothesis-seed


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Without --hypothesis-seed, draw one at random and hand it to hypothesis as if it had been
    given: every hypothesis and schemathesis test of the run generates from it (different runs
    still explore different inputs), and it is printed so a failure is rerun with the same one.
    (Runs before hypothesis's own pytest_configure, which applies the option.)"""
    global RUN_SEED
    if config.getoption(SEED_OPTION, default=None) is None and hasattr(config.option, SEED_OPTION):
        config.option.hypothesis_seed = str(secrets.randbits(32))
    raw = str(config.getoption(SEED_OPTION, default=None) or secrets.randbits(32))
    RUN_SEED = int(raw) if raw.isdigit() else zlib.crc32(raw.encode())


RUN_SEED: int | None = None
"""This run's seed, for generators hypothesis's global seed does not reach (schemathesis seeds
each of its tests itself)."""


def _seed_line(config: pytest.Config) -> str:
    seed = config.getoption(SEED_OPTION, default=None)
    return (
        f"property-based tests seed: {seed} (reproduce a failure: pytest <test id> --hypothesis-seed={seed})"
    )


def pytest_report_header(config: pytest.Config) -> str:
    return _seed_line(config)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if terminalreporter.stats.get("failed") or terminalreporter.stats.get("error"):
        terminalreporter.write_line(_seed_line(config), yellow=True)


def _uses_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("postgres") and not _uses_postgres():
            item.add_marker(pytest.mark.skip(reason=f"{SERVICE_SKIP_PREFIX} set DATABASE_URL=postgres://..."))
        if item.get_closest_marker("redis") and not settings.REDIS_URL:
            item.add_marker(pytest.mark.skip(reason=f"{SERVICE_SKIP_PREFIX} set REDIS_URL=redis://..."))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With FAIL_ON_SKIP=1 (set by .ci/run) any skipped test fails the run."""
    if os.environ.get("FAIL_ON_SKIP") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(
            f"FAIL_ON_SKIP: {len(skipped)} test(s) skipped; CI requires every test to run.", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


AUDIT_TABLE = "intake_auditevent"
AUDIT_TRUNCATE_GUARD = "intake_auditevent_no_truncate"


@pytest.fixture(scope="session", autouse=True)
def _flush_lifts_the_audit_truncate_guard() -> Iterator[None]:
    """A transactional test ends with a flush: one TRUNCATE of every table, which the audit
    trail's guard (migration 0008) refuses. The harness lifts the guard for that statement only,
    inside the flush's own transaction, so every test runs with the guard the migration leaves.
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self: DatabaseOperations, style: Any, tables: list[str], **kwargs: Any) -> list[str]:
        statements = original(self, style, tables, **kwargs)
        if AUDIT_TABLE not in tables or not statements:
            return statements
        return [
            f"ALTER TABLE {AUDIT_TABLE} DISABLE TRIGGER {AUDIT_TRUNCATE_GUARD}",
            *statements,
            f"ALTER TABLE {AUDIT_TABLE} ENABLE ALWAYS TRIGGER {AUDIT_TRUNCATE_GUARD}",
        ]

    with mock.patch.object(DatabaseOperations, "sql_flush", sql_flush):
        yield


@pytest.fixture
def clinic():
    return ClinicFactory()


@pytest.fixture
def other_clinic():
    return ClinicFactory()


def issue_token(client, scopes: Iterable[str], *, expires_in: timedelta = timedelta(hours=1)) -> str:
    """Store an access token for an integration client; returns the raw bearer value."""
    raw = secrets.token_urlsafe(30)
    token = AccessToken(
        application=client.application, expires=timezone.now() + expires_in, scope=" ".join(scopes)
    )
    set_token_value(token, raw)
    token.save()
    return raw


ApiFor = Callable[..., APIClient]


@pytest.fixture
def api_for(db) -> ApiFor:
    """api_for(clinic, scopes) → an APIClient holding a bearer token of a client of that clinic."""

    def make(clinic, scopes: Iterable[str] = tuple(settings.API_SCOPES)) -> APIClient:
        scopes = list(scopes)
        integration = IntegrationClientFactory(clinic=clinic, scopes=scopes)
        token = issue_token(integration, scopes)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return api

    return make


@pytest.fixture
def api(api_for, clinic) -> APIClient:
    return api_for(clinic)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 is deliberately slow; tests only need a real (salted) hash."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_token_lockout(monkeypatch):
    """Each test starts with no /o/token/ failures counted (the cache outlives tests)."""
    import uuid

    from intake.api import oauth

    monkeypatch.setattr(oauth, "KEY_PREFIX", f"oauth-test-{uuid.uuid4().hex}")
    oauth._LOCAL_FALLBACK.clear()


@pytest.fixture(autouse=True)
def _breakers_closed():
    """Each test starts with every Redis circuit breaker closed (tests point one process at many
    servers in turn, and some at servers that never answer)."""
    from intake.availability import breakers_reset

    breakers_reset()
    yield
    breakers_reset()
