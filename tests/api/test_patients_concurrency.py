"""Races that only a real database with real concurrency can show."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from intake.models import PatientIdentifier
from tests.conftest import issue_token
from tests.factories import ClinicFactory, IntegrationClientFactory


@pytest.mark.postgres
@pytest.mark.timeout(120)
@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_of_one_identifier_create_one_patient():
    clinic = ClinicFactory()
    integration = IntegrationClientFactory(clinic=clinic, scopes=["patients:write"])
    token = issue_token(integration, ["patients:write"])
    body = {
        "family_name": "Race",
        "given_name": "R",
        "birth_date": "1980-01-01",
        "identifiers": [{"system": "urn:race", "value": "1"}],
    }

    def register(_: int) -> int:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            return api.post("/api/v1/patients/", body, format="json").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(register, range(16)))
    assert statuses.count(201) == 1
    assert set(statuses) == {201, 409}
    assert PatientIdentifier.objects.filter(system="urn:race").count() == 1
