"""Integration clients: OAuth 2.0 client-credentials applications bound to a clinic."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_application_model

from intake.auth import validate_scopes
from intake.models import Clinic, IntegrationClient


def integration_client_create(
    *, clinic: Clinic, name: str, scopes: Sequence[str]
) -> tuple[IntegrationClient, str]:
    """Create a client; returns it with the plain secret, which is stored only as a hash."""
    granted = validate_scopes(scopes)
    application_model = get_application_model()
    secret = generate_client_secret()
    with transaction.atomic():
        application = application_model.objects.create(
            name=name,
            client_type=application_model.CLIENT_CONFIDENTIAL,
            authorization_grant_type=application_model.GRANT_CLIENT_CREDENTIALS,
            client_secret=secret,
            hash_client_secret=True,
        )
        client = IntegrationClient.objects.create(application=application, clinic=clinic, scopes=granted)
    return client, secret


def integration_client_rotate_secret(*, client: IntegrationClient) -> str:
    """Replace the client's secret; returns the new plain secret (shown once)."""
    secret = generate_client_secret()
    application = client.application
    application.client_secret = secret
    application.save(update_fields=["client_secret"])
    return secret
