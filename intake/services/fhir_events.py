"""Outbox events as FHIR R4 for `fhir` webhook subscriptions.

Every event becomes a `collection` Bundle (id = event id) whose first entry is a `Parameters`
resource carrying the event's identity and ordering (event-id, event-type, seq, occurred-at,
flag version). Flag events add the flag's Flag, ServiceRequest and Task from
`intake.fhir.outbound.referral_resources`; intake events carry the intake, revision and pathway
in the Parameters (the full scores are at the FHIR API).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings

from intake.fhir.outbound import FlagFacts, extract_bundle, referral_resources
from intake.models import OutboxEvent, ReferralFlag

from .outbox import FLAG_CREATED, FLAG_UPDATED, INTAKE_SCORED

_ENDED = ("closed", "dismissed", "superseded")  # flag statuses after which its FHIR Flag is inactive


def _parameter(name: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"name": name, "valueBoolean": value}
    if isinstance(value, int):
        return {"name": name, "valueInteger": value}
    return {"name": name, "valueString": str(value)}


def event_bundle(event: OutboxEvent) -> dict[str, Any]:
    base_url: str = settings.FHIR_CANONICAL_BASE
    payload: dict[str, Any] = event.payload
    parameters: list[dict[str, Any]] = [
        _parameter("event-id", str(event.event_id)),
        _parameter("event-type", event.event_type),
        _parameter("seq", event.seq),
        {"name": "occurred-at", "valueDateTime": event.occurred_at.isoformat()},
    ]
    resources: list[dict[str, Any]] = []
    if event.event_type in (FLAG_CREATED, FLAG_UPDATED):
        parameters += [
            _parameter("flag-version", int(payload["version"])),
            _parameter("action", payload["action"]),
            {"name": "subject", "valueReference": {"reference": f"Patient/{payload['patient_id']}"}},
        ]
        flag = ReferralFlag.objects.filter(pk=payload["flag_id"]).only("created_at", "reasons").first()
        raised_at = flag.created_at if flag is not None else event.occurred_at
        rules = tuple((flag.reasons or {}).get("rules", ())) if flag is not None else ()
        resources = referral_resources(
            [
                FlagFacts(
                    id=payload["flag_id"],
                    patient_id=payload["patient_id"],
                    kind=payload["kind"],
                    priority=payload["priority"],
                    status=payload["status"],
                    raised_at=raised_at,
                    due_at=datetime.datetime.fromisoformat(payload["due_at"]),
                    closed_at=event.occurred_at if payload["status"] in _ENDED else None,
                    rules=tuple(str(rule) for rule in rules),
                )
            ],
            base_url=base_url,
        )
    elif event.event_type == INTAKE_SCORED:
        stratification = payload.get("stratification") or {}
        parameters += [
            _parameter("intake-id", payload["intake_id"]),
            _parameter("revision", int(payload["revision"])),
            _parameter("form", payload["form"]),
            {"name": "subject", "valueReference": {"reference": f"Patient/{payload['patient_id']}"}},
        ]
        if stratification.get("back_care"):
            parameters.append(_parameter("back-care", stratification["back_care"]))
    header = {"resourceType": "Parameters", "id": str(event.event_id), "parameter": parameters}
    return extract_bundle(
        [header, *resources], base_url=base_url, bundle_id=str(event.event_id), timestamp=event.occurred_at
    )
