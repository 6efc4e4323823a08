"""The token endpoints under attack: lockout per client id and per address, the same cost for
known and unknown client ids, and OAuth-format answers when the database or the cache is down."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from django.contrib.auth.hashers import get_hasher
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import RequestFactory
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from intake.api import oauth
from intake.services.integrations import integration_client_create

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()).decode()


def token(client_id: str, secret: str, *, address: str = "203.0.113.7", in_body: bool = False):
    body = {"grant_type": "client_credentials"}
    headers = {"REMOTE_ADDR": address}
    if in_body:
        body.update(client_id=client_id, client_secret=secret)
    else:
        headers["HTTP_AUTHORIZATION"] = _basic(client_id, secret)
    return APIClient().post("/o/token/", body, format="multipart", **headers)


@pytest.fixture
def lockout(settings):
    settings.OAUTH_TOKEN_FAILURE_LIMIT = 3
    settings.OAUTH_TOKEN_COOLOFF_HOURS = 0.25
    return settings


@pytest.fixture
def ehr(clinic):
    client, secret = integration_client_create(clinic=clinic, name="EHR", scopes=["patients:read"])
    return client.application.client_id, secret


@pytest.fixture
def clock(monkeypatch):
    """The lockout's clock, moved by hand."""
    now = [1_800_000_000.0]
    monkeypatch.setattr(oauth, "_clock", lambda: now[0])
    return now


@pytest.fixture
def hashings(monkeypatch):
    """How many times the configured password hasher checked a secret."""
    hasher_class = type(get_hasher("default"))
    calls = []
    original = hasher_class.verify

    def counting(self, password, encoded):
        calls.append(encoded)
        return original(self, password, encoded)

    monkeypatch.setattr(hasher_class, "verify", counting)
    return calls


def assert_locked_out(response):
    assert response.status_code == 429, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["error"] == "slow_down"
    assert body["error_description"]
    assert 1 <= int(response["Retry-After"]) <= 900


def test_failures_lock_the_client_id_out_even_for_the_right_secret_until_the_cooloff_ends(
    lockout, ehr, clock, hashings
):
    client_id, secret = ehr
    for attempt in range(3):
        # From different addresses: the client id's count alone reaches the limit.
        response = token(client_id, "wrong", address=f"198.51.100.{attempt}")
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
    assert len(hashings) == 3

    assert_locked_out(token(client_id, "wrong", address="198.51.100.9"))
    assert_locked_out(token(client_id, secret, address="198.51.100.9"))
    assert_locked_out(token(client_id, secret, address="192.0.2.1", in_body=True))
    assert len(hashings) == 3, "a locked-out attempt must cost no hashing"

    clock[0] += 15 * 60 - 1
    assert_locked_out(token(client_id, secret))
    clock[0] += 2
    assert token(client_id, secret).status_code == 200


def test_an_address_is_locked_out_across_client_ids(lockout, ehr, clinic, clock):
    client_id, secret = ehr
    for n in range(3):
        assert token(f"unknown-{n}", "guess", address="203.0.113.50").status_code == 401
    # Neither the known client nor a fresh id gets through from that address ...
    assert_locked_out(token(client_id, secret, address="203.0.113.50"))
    assert_locked_out(token("unknown-9", "guess", address="203.0.113.50"))
    # ... while the client itself, elsewhere, is not locked.
    assert token(client_id, secret, address="203.0.113.51").status_code == 200


def test_a_success_does_not_reset_the_address_count_earned_by_other_ids(lockout, ehr, clock):
    client_id, secret = ehr
    address = "203.0.113.60"
    assert token("other-1", "guess", address=address).status_code == 401
    assert token("other-2", "guess", address=address).status_code == 401
    assert token(client_id, secret, address=address).status_code == 200
    assert token("other-3", "guess", address=address).status_code == 401  # the third failure
    assert_locked_out(token(client_id, secret, address=address))


def test_a_success_resets_its_own_client_ids_count(lockout, ehr, clock):
    client_id, secret = ehr
    for n in range(2):
        assert token(client_id, "wrong", address=f"198.51.100.{n}").status_code == 401
    assert token(client_id, secret, address="198.51.100.20").status_code == 200
    for n in range(2):
        assert token(client_id, "wrong", address=f"198.51.100.{n + 10}").status_code == 401
    assert token(client_id, secret, address="198.51.100.21").status_code == 200


def test_requests_that_are_not_failed_authentications_do_not_count(lockout, ehr, clock):
    client_id, secret = ehr
    for _ in range(5):
        response = token(client_id, secret)
        assert response.status_code == 200
    response = APIClient().post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "flags:write"},
        format="multipart",
        HTTP_AUTHORIZATION=_basic(client_id, secret),
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code == 400  # invalid_scope: authenticated, just asking too much
    assert token(client_id, secret).status_code == 200


def test_revocation_is_guarded_by_the_same_lockout(lockout, ehr, clock):
    client_id, secret = ehr
    access = token(client_id, secret).json()["access_token"]

    def revoke(secret_given: str):
        return APIClient().post(
            "/o/revoke_token/",
            {"token": access},
            format="multipart",
            HTTP_AUTHORIZATION=_basic(client_id, secret_given),
            REMOTE_ADDR="203.0.113.70",
        )

    for _ in range(3):
        assert revoke("wrong").status_code == 401
    assert_locked_out(revoke(secret))
    assert_locked_out(token(client_id, secret, address="203.0.113.99"))  # same client id


def test_the_limit_holds_in_process_memory_when_the_cache_is_down(lockout, ehr, clock, monkeypatch):
    class DownCache:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise ConnectionError("redis is down")

            return fail

    monkeypatch.setattr(oauth, "cache", DownCache())
    client_id, secret = ehr
    assert token(client_id, secret).status_code == 200  # fails open: tokens are still issued
    for _ in range(3):
        assert token(client_id, "wrong").status_code == 401
    assert_locked_out(token(client_id, secret))


@pytest.mark.parametrize("in_body", [False, True], ids=["basic", "body"])
def test_an_unknown_client_id_costs_the_same_hashing_as_a_known_one(lockout, ehr, hashings, in_body):
    client_id, _ = ehr
    token("warm-up", "x", in_body=in_body)  # the dummy hash is made once per process
    hashings.clear()

    assert token(client_id, "wrong", in_body=in_body, address="192.0.2.10").status_code == 401
    known = len(hashings)
    hashings.clear()
    assert token("no-such-client", "wrong", in_body=in_body, address="192.0.2.11").status_code == 401
    unknown = list(hashings)

    assert known == 1
    assert len(unknown) == known
    # ... with the hasher client secrets are stored with.
    assert all(get_hasher("default").algorithm in encoded for encoded in unknown)


def test_a_request_naming_no_client_costs_one_hashing_too(lockout, hashings):
    token("warm-up", "x")
    hashings.clear()
    response = APIClient().post(
        "/o/token/", {"grant_type": "client_credentials"}, format="multipart", REMOTE_ADDR="192.0.2.12"
    )
    assert response.status_code == 401
    assert len(hashings) == 1


@settings(max_examples=50, deadline=None)
@given(client_id=st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=1))
def test_the_lockout_counts_the_client_id_dot_authenticates(client_id):
    """Whatever the id's characters, Basic and body credentials are counted under the id DOT reads."""
    factory = RequestFactory()
    basic = factory.post(
        "/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=_basic(client_id, "s:e:c")
    )
    body = factory.post("/o/token/", {"grant_type": "client_credentials", "client_id": client_id})
    assert oauth.offered_client_id(basic) == client_id
    assert oauth.offered_client_id(body) == client_id


@pytest.mark.parametrize("path", ["/o/token/", "/o/revoke_token/"])
def test_database_down_is_503_in_the_oauth_error_format(ehr, monkeypatch, path):
    client_id, secret = ehr

    def unavailable(self, *args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr(CursorWrapper, "execute", unavailable)
    response = APIClient().post(
        path,
        {"grant_type": "client_credentials", "token": "whatever"},
        format="multipart",
        HTTP_AUTHORIZATION=_basic(client_id, secret),
    )
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert int(response["Retry-After"]) > 0
    body = response.json()
    assert body["error"] == "temporarily_unavailable"
    assert "database" in body["error_description"]


def test_the_lockout_settings_are_validated_at_start_up():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "clinic_service.settings"}
    env["OAUTH_TOKEN_FAILURE_LIMIT"] = "0"
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "OAUTH_TOKEN_FAILURE_LIMIT" in result.stderr
