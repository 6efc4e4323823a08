"""One record of every kind in a clinic, and the concrete URL of a path template: what the tests
generated from the URL configuration or the OpenAPI document (the authorization matrix, query
fuzzing) run against."""

from __future__ import annotations

import re
from typing import Any

from intake.models import Intake, OutboxEvent, RestratificationJob, StratificationRecord, WebhookDelivery
from intake.services.webhooks import subscription_create
from tests.builders import initial_intake
from tests.factories import IdentifierFactory, PatientFactory

WEBHOOK_HOST = "93.184.215.14"  # an IP literal: no DNS look-up in tests


def records_of_every_kind(
    api: Any, clinic: Any, settings: Any, *, mrn: tuple[str, str], responses: dict[str, Any]
) -> tuple[dict[str, Any], Any, Intake]:
    """A patient known by `mrn` (system, value), an intake for them through the API (flags from
    `responses`), a webhook subscription with a delivery and a re-stratification job; returns the
    id of each by URL segment, the patient and the intake."""
    settings.WEBHOOK_ALLOWED_HOSTS = [WEBHOOK_HOST]
    patient = PatientFactory(clinic=clinic)
    system, value = mrn
    IdentifierFactory(patient=patient, system=system, value=value)
    body = initial_intake({"identifier": {"system": system, "value": value}}, responses=responses)
    intake = Intake.objects.get(pk=api.post("/api/v1/intakes/", body, format="json").json()["id"])
    subscription = subscription_create(
        clinic=clinic, url=f"https://{WEBHOOK_HOST}/hook", event_types=["flag.created"]
    )
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event=OutboxEvent.objects.filter(clinic=clinic).first()
    )
    job = RestratificationJob.objects.create(ruleset="lbp-2026.1", clinic=clinic, batch_size=500)
    ids = {
        "patients": patient.pk,
        "intakes": intake.pk,
        "flags": intake.flags.first().pk,
        "webhooks": subscription.pk,
        "webhooks/deliveries": delivery.pk,
        "restratifications": job.pk,
        "QuestionnaireResponse": intake.pk,
        "RiskAssessment": StratificationRecord.objects.get(revision__intake=intake).pk,
    }
    return ids, patient, intake


def fill(path: str, ids: dict[str, Any]) -> str:
    """The concrete URL of a path template: `{code}` is phq9, any other placeholder the id of the
    record its preceding segment names."""

    def value(match: re.Match[str]) -> str:
        if match.group(1) == "code":
            return "phq9"
        before = path[: match.start()].rstrip("/")
        for resource in sorted(ids, key=len, reverse=True):
            if before.endswith("/" + resource):
                return str(ids[resource])
        raise AssertionError(f"add a sample record for {path} to tests/records.py")

    return re.sub(r"\{(\w+)\}", value, path)
