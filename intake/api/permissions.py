"""Authorization: the caller must belong to a clinic and hold the scope the operation needs.

Views name their resource (`scope_resource = "patients"`): safe methods need `<resource>:read`,
others `<resource>:write`; `action_scopes` overrides per action. Subclassing DOT's TokenHasScope
lets drf-spectacular document each operation's scope in the OpenAPI security requirements.
A missing scope is a 403 naming the scopes needed (`InsufficientScope`).
"""

from __future__ import annotations

from typing import Any

from oauth2_provider.contrib.rest_framework import TokenHasScope
from oauth2_provider.models import AbstractAccessToken
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request

from intake.auth import Actor, actor_for_token, actor_for_user


class InsufficientScope(PermissionDenied):
    """The caller is authenticated but lacks scopes the operation needs (RFC 6750 §3.1)."""

    default_code = "insufficient_scope"

    def __init__(self, *, required: list[str], missing: list[str], is_bearer: bool) -> None:
        holder = "This access token does not hold" if is_bearer else "Your role in this clinic does not grant"
        super().__init__(f"{holder} the scope this operation needs: {' '.join(missing)}.")
        self.required_scopes = required
        self.is_bearer = is_bearer


def resolve_actor(request: Request) -> Actor | None:
    """The request's actor (cached on the request); None for anonymous or clinic-less callers."""
    if hasattr(request, "_clinic_actor"):
        return request._clinic_actor
    actor: Actor | None = None
    if isinstance(request.auth, AbstractAccessToken):
        actor = actor_for_token(request.auth)
    elif request.user is not None and request.user.is_authenticated:
        actor = actor_for_user(request.user, request.headers.get("X-Clinic"))
    request._clinic_actor = actor  # type: ignore[attr-defined]
    request._request.clinic_actor = actor  # type: ignore[attr-defined]  # read by AuditMiddleware
    return actor


def get_actor(request: Request) -> Actor:
    """The actor of a request that has passed ClinicScopePermission."""
    actor = resolve_actor(request)
    assert actor is not None, "view reached without ClinicScopePermission"
    return actor


class ClinicScopePermission(TokenHasScope):
    def has_permission(self, request: Request, view: Any) -> bool:
        if request.auth is None and (request.user is None or not request.user.is_authenticated):
            return False  # DRF turns this into 401 since no authenticator succeeded
        actor = resolve_actor(request)
        if actor is None:
            self.message = "This token's client, or this user, acts for no active clinic."
            self.code = "no_clinic"
            return False
        required = self.get_scopes(request, view)
        missing = [scope for scope in required if scope not in actor.scopes]
        if missing:
            raise InsufficientScope(
                required=required, missing=missing, is_bearer=isinstance(request.auth, AbstractAccessToken)
            )
        return True

    def get_scopes(self, request: Request, view: Any) -> list[str]:
        explicit = getattr(view, "required_scope", None)
        if explicit is not None:
            return [explicit]
        action = getattr(view, "action", None)
        overrides: dict[str, str | list[str]] = getattr(view, "action_scopes", {})
        if action in overrides:
            needed = overrides[action]
            return [needed] if isinstance(needed, str) else list(needed)
        if not hasattr(view, "scope_resource"):
            raise AssertionError(f"{type(view).__name__} must set scope_resource")
        resource = view.scope_resource
        if resource is None:
            return []  # reference data: any authenticated caller of a clinic
        method = getattr(request, "method", "GET") or "GET"
        return [f"{resource}:{'read' if method in SAFE_METHODS else 'write'}"]
