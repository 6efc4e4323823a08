"""Idempotency-Key on POST /api/v1/intakes/: safe retries, refused reuse, one result under races."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from intake.models import FlagEvent, IdempotencyRecord, Intake, ReferralFlag
from intake.services.idempotency import idempotency_purge
from tests.builders import initial_intake
from tests.conftest import issue_token
from tests.factories import ClinicFactory, IdentifierFactory, IntegrationClientFactory, PatientFactory

MRN = {"system": "urn:test:mrn", "value": "IDEM-1"}


@pytest.fixture
def patient(clinic):
    patient = PatientFactory(clinic=clinic)
    IdentifierFactory(patient=patient, **MRN)
    return patient


def submit(api, body, key):
    return api.post("/api/v1/intakes/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
def test_retry_with_same_key_and_body_replays_the_original_response(api, patient):
    body = initial_intake({"identifier": MRN}, responses={"red_flags": {"fever": True}})
    first = submit(api, body, "key-1")
    again = submit(api, body, "key-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert again["Location"] == first["Location"]
    assert Intake.objects.count() == 1
    assert ReferralFlag.objects.count() == 1


@pytest.mark.django_db
def test_same_key_with_a_different_body_is_422(api, patient):
    submit(api, initial_intake({"identifier": MRN}), "key-2")
    response = submit(api, initial_intake({"identifier": MRN}, responses={"nrs": {"pain": 9}}), "key-2")
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "Idempotency-Key"
    assert Intake.objects.count() == 1


@pytest.mark.django_db
def test_keys_belong_to_one_client(api, api_for, clinic, patient):
    body = initial_intake({"identifier": MRN})
    other_client = api_for(clinic)
    assert submit(api, body, "shared").status_code == 201
    assert submit(other_client, body, "shared").status_code == 201
    assert Intake.objects.count() == 2


@pytest.mark.django_db
def test_a_failed_request_does_not_consume_its_key(api, patient):
    bad = initial_intake({"identifier": MRN}, responses={"phq9": {"q1": 9}})
    assert submit(api, bad, "key-3").status_code == 400
    assert not IdempotencyRecord.objects.exists()
    assert submit(api, initial_intake({"identifier": MRN}), "key-3").status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "tab\there"])
def test_malformed_keys_are_400(api, patient, key):
    response = submit(api, initial_intake({"identifier": MRN}), key)
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "Idempotency-Key"


@pytest.mark.django_db
def test_keys_are_kept_48_hours_then_purged(api, patient):
    submit(api, initial_intake({"identifier": MRN}), "old")
    submit(api, initial_intake({"identifier": MRN}, completed_at="2026-11-21T09:30:00Z"), "new")
    IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=49))
    IdempotencyRecord.objects.filter(key="new").update(created_at=timezone.now() - timedelta(hours=47))
    assert idempotency_purge() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_duplicates_create_exactly_one_intake():
    clinic = ClinicFactory()
    patient = PatientFactory(clinic=clinic)
    IdentifierFactory(patient=patient, **MRN)
    integration = IntegrationClientFactory(clinic=clinic, scopes=["intakes:write"])
    token = issue_token(integration, ["intakes:write"])
    body = initial_intake({"identifier": MRN}, responses={"red_flags": {"saddle_anaesthesia": True}})

    def post(_: int):
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            response = submit(api, body, "race-key")
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(post, range(20)))
    statuses = {status for status, _ in results}
    bodies = {str(sorted(body.items())) for _, body in results}
    assert statuses == {201}
    assert len(bodies) == 1  # 20 identical responses
    assert Intake.objects.count() == 1
    assert ReferralFlag.objects.count() == 1
    assert FlagEvent.objects.count() == 1
