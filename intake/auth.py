"""Who is calling, for which clinic, with which scopes.

Every request acts within exactly one clinic: an integration client's own, or a staff
member's (the `X-Clinic` header picks one when the user works in several).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from oauth2_provider.models import get_access_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import BaseScopes

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


class ClinicOAuth2Validator(OAuth2Validator):
    """django-oauth-toolkit's validator, loading a bearer token with its integration client and
    clinic in one query (the default loads the token, then each relation on first use: three
    round trips on every API request). Every check DOT makes on the token stays DOT's."""

    def _load_access_token(self, token: str) -> Any:
        checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
        return (
            get_access_token_model()
            .objects.select_related("application__integration_client__clinic", "user")
            .filter(token_checksum=checksum)
            .first()
        )


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
