"""Webhook subscriptions: create (with a fresh signing secret) and change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from intake.models import Clinic, WebhookFormat, WebhookSubscription

from .delivery import subscription_resume
from .ssrf import resolve_target
from .webhook_signature import new_secret

EDITABLE_FIELDS = ("url", "description", "event_types", "format", "is_active")


def subscription_create(
    *,
    clinic: Clinic,
    url: str,
    event_types: Sequence[str],
    format: str = WebhookFormat.JSON,
    description: str = "",
    is_active: bool = True,
    created_by: str = "",
) -> WebhookSubscription:
    """A new subscription; its `secret` is readable on the returned object only (show it once)."""
    resolve_target(url)  # UnsafeWebhookTarget: the URL must be a public https host
    return WebhookSubscription.objects.create(
        clinic=clinic,
        url=url,
        event_types=sorted(set(event_types)),
        format=format,
        description=description,
        is_active=is_active,
        secret=new_secret(),
        created_by=created_by,
    )


def subscription_update(*, subscription: WebhookSubscription, changes: dict[str, Any]) -> WebhookSubscription:
    """Apply `changes`. A change lifts a pause (a receiver that failed: the URL may be fixed now):
    its sender is woken after commit and tries the oldest due delivery at once."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if "url" in changes:
        resolve_target(changes["url"])
    for name, value in changes.items():
        setattr(subscription, name, sorted(set(value)) if name == "event_types" else value)
    was_paused = subscription.paused_until is not None
    subscription.paused_until = None
    subscription.save(update_fields=[*changes, "paused_until", "updated_at"])
    if was_paused:
        transaction.on_commit(lambda: subscription_resume(subscription_id=subscription.pk))
    return subscription
