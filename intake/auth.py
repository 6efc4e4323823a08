"""Who is calling, for which clinic, with which scopes.

Every request acts within exactly one clinic: an integration client's own, or a staff
member's (the `X-Clinic` header picks one when the user works in several).
"""

from __future__ import annotations

import hashlib
import secrets
from collections import OrderedDict
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, get_hasher, make_password
from oauth2_provider.models import get_access_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import BaseScopes
from oauth2_provider.settings import oauth2_settings

from .models import Clinic, IntegrationClient, Role, StaffMembership

ALL_SCOPES: frozenset[str] = frozenset(settings.API_SCOPES)

ROLE_SCOPES: dict[str, frozenset[str]] = {
    Role.RECEPTION: frozenset({"patients:read", "patients:write", "intakes:read", "intakes:write"}),
    Role.COORDINATOR: frozenset({"patients:read", "intakes:read", "flags:read", "flags:write"}),
    Role.CLINICIAN: frozenset(
        {"patients:read", "patients:write", "intakes:read", "intakes:write", "flags:read", "flags:write"}
    ),
    Role.CLINIC_ADMIN: ALL_SCOPES,
}


@dataclass(frozen=True)
class Actor:
    """The caller of one request, resolved to a single clinic."""

    clinic: Clinic
    scopes: frozenset[str]
    user_id: int | None = None
    client_id: int | None = None
    role: str | None = None

    @property
    def label(self) -> str:
        return f"client:{self.client_id}" if self.client_id else f"user:{self.user_id}"


class ClinicChoiceRequired(Exception):
    """A staff user in several clinics did not say which one this request is for."""


def actor_for_token(token: Any) -> Actor | None:
    """The actor behind a client-credentials access token, or None if it has no clinic."""
    try:
        client = token.application.integration_client
    except (AttributeError, IntegrationClient.DoesNotExist):
        return None
    if not client.clinic.is_active:
        return None
    granted = frozenset(token.scope.split()) & frozenset(client.scopes)
    return Actor(clinic=client.clinic, scopes=granted, client_id=client.pk)


def actor_for_user(user: Any, clinic_slug: str | None) -> Actor | None:
    """The actor for a logged-in staff user: None when they belong to no (matching) clinic."""
    memberships = StaffMembership.objects.select_related("clinic").filter(user=user, clinic__is_active=True)
    if clinic_slug:
        memberships = memberships.filter(clinic__slug=clinic_slug)
    found = list(memberships[:2])
    if not found:
        return None
    if len(found) > 1:
        raise ClinicChoiceRequired
    membership = found[0]
    return Actor(
        clinic=membership.clinic,
        scopes=ROLE_SCOPES[membership.role],
        user_id=user.pk,
        role=membership.role,
    )


class BearerTokenError(OrderedDict[str, str]):
    """DOT's `oauth2_error` (rendered into WWW-Authenticate as is) plus why the token failed,
    as a code the API's 401 body can name: `token_expired` or `invalid_token`."""

    def __init__(self, error: dict[str, str], *, reason: str) -> None:
        super().__init__(error)
        self.reason = reason


# One dummy hash per hasher configuration: check_password against it costs what checking a
# real client's secret costs (the same hasher, iterations and hardening).
_DUMMY_SECRET_HASHES: dict[tuple[str | None, Any], str] = {}


def _dummy_secret_hash() -> str:
    hasher = get_hasher(oauth2_settings.CLIENT_SECRET_HASHER)
    key = (hasher.algorithm, getattr(hasher, "iterations", None))
    if key not in _DUMMY_SECRET_HASHES:
        _DUMMY_SECRET_HASHES[key] = make_password(
            secrets.token_urlsafe(32), hasher=oauth2_settings.CLIENT_SECRET_HASHER
        )
    return _DUMMY_SECRET_HASHES[key]


# How many stored secrets the current client authentication compared (a ContextVar: DOT caches
# one validator per view class, shared by every thread of a worker).
_secrets_checked: ContextVar[int] = ContextVar("secrets_checked", default=0)


class ClinicOAuth2Validator(OAuth2Validator):
    """django-oauth-toolkit's validator, loading a bearer token with its integration client and
    clinic in one query (the default loads the token, then each relation on first use: three
    round trips on every API request). Every check DOT makes on the token stays DOT's.

    Client authentication costs the same whether the client id exists or not: DOT answers an
    unknown id without hashing anything (7 ms against 350 ms for a known one, measured), which
    lets anyone list the client ids by timing. As Django's ModelBackend does for an unknown
    username, the unknown path hashes the offered secret with the client-secret hasher."""

    def _load_access_token(self, token: str) -> Any:
        checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
        return (
            get_access_token_model()
            .objects.select_related("application__integration_client__clinic", "user")
            .filter(token_checksum=checksum)
            .first()
        )

    def _check_secret(self, provided_secret: str, stored_secret: str) -> bool:
        _secrets_checked.set(_secrets_checked.get() + 1)
        return bool(super()._check_secret(provided_secret, stored_secret))

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        reset = _secrets_checked.set(0)
        try:
            authenticated = bool(super().authenticate_client(request, *args, **kwargs))
            if not _secrets_checked.get():
                # No stored secret was compared (unknown or unusable client id, or none given).
                check_password(getattr(request, "client_secret", None) or "", _dummy_secret_hash())
            return authenticated
        finally:
            _secrets_checked.reset(reset)

    def _set_oauth2_error_on_request(self, request: Any, access_token: Any, scopes: Any) -> Any:
        request = super()._set_oauth2_error_on_request(request, access_token, scopes)
        expired = access_token is not None and access_token.is_expired()
        request.oauth2_error = BearerTokenError(
            request.oauth2_error, reason="token_expired" if expired else "invalid_token"
        )
        return request


def validate_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes, checked against the known ones; raises ValueError naming unknown ones."""
    wanted = list(dict.fromkeys(scopes))
    unknown = sorted(set(wanted) - ALL_SCOPES)
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(unknown)}; known: {', '.join(sorted(ALL_SCOPES))}")
    return wanted


class IntegrationClientScopes(BaseScopes):
    """django-oauth-toolkit scopes backend: a client may only be granted its own scopes."""

    def get_all_scopes(self) -> dict[str, str]:
        return dict(settings.API_SCOPES)

    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        return self._client_scopes(application)

    def get_default_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        return self._client_scopes(application)

    @staticmethod
    def _client_scopes(application: Any) -> list[str]:
        if application is None:
            return []
        try:
            return list(application.integration_client.scopes)
        except IntegrationClient.DoesNotExist:
            return []
