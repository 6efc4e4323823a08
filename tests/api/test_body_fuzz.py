"""Whatever body arrives at any write endpoint of /api/v1/ and /fhir/, the answer is never a 5xx:
a 4xx is a problem document (an OperationOutcome under /fhir/) locating what it refuses, and a
refused body writes nothing.

Bodies start from a valid one per endpoint and are mutated as raw JSON text, so they can hold what
json.dumps never writes: a key repeated in one object, lone surrogate and NUL escapes, 1e400,
integers longer than int() reads; keys include digits that are not ASCII ("²", "٣"). A failure
prints its `@reproduce_failure` blob; `pytest --hypothesis-seed=N` repeats a whole run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from drf_spectacular.generators import EndpointEnumerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.models import (
    FlagEvent,
    IdempotencyRecord,
    Intake,
    IntakeRevision,
    OutboxEvent,
    Patient,
    PatientIdentifier,
    ReferralFlag,
    WebhookDelivery,
    WebhookSubscription,
)
from intake.services.webhooks import subscription_create
from tests.builders import initial_intake
from tests.factories import IdentifierFactory, PatientFactory
from tests.fhir.test_inbound import lhc_response

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
FHIR = "application/fhir+json"
MRN = {"system": "urn:fuzz:bodies", "value": "F-1"}
WRITE_METHODS = ("POST", "PUT", "PATCH")


# --- bodies as raw JSON text -------------------------------------------------------------------


@dataclass
class Obj:
    """A JSON object as key/value pairs: a key may repeat, as raw JSON text allows."""

    pairs: list[tuple[str, Any]]


@dataclass(frozen=True)
class Raw:
    """A JSON number written verbatim (`1e400`), beyond what json.dumps can produce."""

    text: str


def to_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return Obj([(key, to_tree(item)) for key, item in value.items()])
    if isinstance(value, list):
        return [to_tree(item) for item in value]
    return value


def encode(node: Any) -> str:
    """Raw JSON text; strings are ASCII-escaped, so lone surrogates and NUL become `\\ud800`, `\\u0000`."""
    if isinstance(node, Obj):
        return "{" + ", ".join(f"{json.dumps(key)}: {encode(value)}" for key, value in node.pairs) + "}"
    if isinstance(node, list):
        return "[" + ", ".join(encode(item) for item in node) + "]"
    if isinstance(node, Raw):
        return node.text
    return json.dumps(node)


def objects(node: Any) -> list[Obj]:
    """Every object in the tree, the root first."""
    found: list[Obj] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Obj):
            found.append(current)
            stack.extend(value for _, value in reversed(current.pairs))
        elif isinstance(current, list):
            stack.extend(reversed(current))
    return found


WEIRD_TEXT = [
    "\ud800",
    "\udfff",
    "x\udc00",
    "\x00",
    "a\x00b",
    "\u00b2",
    "\u0663",
    "\u00bd",
    "0",
    "",
    "\U0001d7d8",
]
text = st.sampled_from(WEIRD_TEXT) | st.text(
    st.characters(exclude_categories=()) | st.characters(categories=["Cs"]) | st.sampled_from(["\x00"]),
    max_size=8,
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([Raw("1e400"), Raw("-1e999"), Raw("9" * 4301)])
    | text
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3)
        | st.lists(st.tuples(text, children), max_size=3).map(lambda pairs: Obj(list(pairs)))
    ),
    max_leaves=8,
)


def mutate(draw: st.DrawFn, body: Any, field_names: list[str]) -> Any:
    """Up to four edits of `body`: a value replaced, a key added, or a key repeated."""
    tree = to_tree(body)
    keys = st.sampled_from(field_names) | text if field_names else text
    for _ in range(draw(st.integers(1, 4))):
        target = draw(st.sampled_from(objects(tree)))
        action = draw(st.sampled_from(["replace", "add", "repeat"]))
        if action == "add" or not target.pairs:
            target.pairs.insert(draw(st.integers(0, len(target.pairs))), (draw(keys), draw(values)))
        elif action == "replace":
            index = draw(st.integers(0, len(target.pairs) - 1))
            target.pairs[index] = (target.pairs[index][0], draw(values))
        else:
            key, _ = target.pairs[draw(st.integers(0, len(target.pairs) - 1))]
            target.pairs.insert(draw(st.integers(0, len(target.pairs))), (key, draw(values)))
    return tree


# --- endpoints and the objects they name --------------------------------------------------------


def write_endpoints() -> list[tuple[str, str]]:
    found = {
        (path.replace("/QuestionnaireResponse/extract", "/QuestionnaireResponse/$extract"), method)
        for path, _, method, _ in EndpointEnumerator().get_api_endpoints()
        if method in WRITE_METHODS and path.startswith(("/api/v1/", "/fhir/"))
    }
    return sorted(found)


def seed_body(path: str, patient: Patient) -> dict[str, Any]:
    """A valid (or nearly valid) body for the endpoint; mutations start from it."""
    if path.startswith("/fhir/"):
        response = lhc_response({n: n % 4 for n in range(1, 10)})
        response["subject"] = {"reference": f"Patient/{patient.pk}"}
        return response
    patient_body = {
        "family_name": "Fuzz",
        "given_name": "Body",
        "birth_date": "1980-01-01",
        "gender": "female",
        "identifiers": [{"system": "urn:fuzz:other", "value": "O-1"}],
    }
    intake_body = initial_intake({"identifier": MRN}, responses={"phq9": {"q9": 1}})
    revision_body = {key: value for key, value in intake_body.items() if key != "patient"}
    webhook_body = {"url": "https://93.184.215.14/hook", "event_types": ["flag.created"], "description": "d"}
    seeds = {
        "/api/v1/patients/": patient_body,
        "/api/v1/patients/{pk}/": patient_body,
        "/api/v1/patients/{pk}/deactivate/": {},
        "/api/v1/patients/{pk}/reactivate/": {},
        "/api/v1/intakes/": intake_body,
        "/api/v1/intakes/{pk}/revisions/": {**revision_body, "reason": "transcription error"},
        "/api/v1/flags/{pk}/acknowledge/": {"note": "seen"},
        "/api/v1/flags/{pk}/start/": {"note": "started"},
        "/api/v1/flags/{pk}/close/": {"note": "done"},
        "/api/v1/flags/{pk}/dismiss/": {"reason": "not needed"},
        "/api/v1/flags/{pk}/assign/": {"assignee": None, "note": ""},
        "/api/v1/webhooks/": webhook_body,
        "/api/v1/webhooks/{pk}/": webhook_body,
        "/api/v1/webhooks/deliveries/{pk}/redeliver/": {},
    }
    assert path in seeds, f"add a seed body for {path} to this test"
    return seeds[path]


def field_names(body: Any) -> list[str]:
    names: set[str] = set()
    for node in objects(to_tree(body)):
        names.update(key for key, _ in node.pairs)
    return sorted(names)


@pytest.fixture
def world(api, clinic, monkeypatch):
    import intake.services.ssrf as ssrf

    monkeypatch.setattr(ssrf, "_resolve", lambda host, port: ["93.184.215.14"])  # no DNS in tests
    patient = PatientFactory(clinic=clinic)
    IdentifierFactory(patient=patient, **MRN)
    created = api.post(
        "/api/v1/intakes/", initial_intake({"identifier": MRN}, responses={"phq9": {"q9": 1}}), format="json"
    )
    assert created.status_code == 201, created.content
    intake = Intake.objects.get(pk=created.json()["id"])
    subscription = subscription_create(
        clinic=clinic, url="https://hooks.example/in", event_types=["flag.created"]
    )
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event=OutboxEvent.objects.filter(clinic=clinic).first()
    )
    ids = {
        "patients": patient.pk,
        "intakes": intake.pk,
        "flags": intake.flags.get().pk,
        "webhooks": subscription.pk,
        "webhooks/deliveries": delivery.pk,
    }
    return {"patient": patient, "ids": ids}


def fill(path: str, ids: dict[str, Any]) -> str:
    before = path.split("/{pk}/")[0]
    resource = next(
        (name for name in sorted(ids, key=len, reverse=True) if before.endswith("/" + name)), None
    )
    return path if resource is None else path.replace("{pk}", str(ids[resource]))


def snapshot() -> tuple[Any, ...]:
    """Everything a write endpoint can create or change (audit rows excepted: refusals are audited)."""
    counted = (
        Patient,
        PatientIdentifier,
        Intake,
        IntakeRevision,
        ReferralFlag,
        FlagEvent,
        OutboxEvent,
        WebhookSubscription,
        WebhookDelivery,
        IdempotencyRecord,
    )
    rows = {
        Patient: ("family_name", "given_name", "birth_date", "gender", "is_active"),
        ReferralFlag: ("status", "version", "assignee_id", "status_reason"),
        WebhookSubscription: ("url", "event_types", "description", "format", "is_active"),
        WebhookDelivery: ("status", "next_attempt_at", "attempt_count"),
    }
    return (
        tuple(model.objects.count() for model in counted),
        *(list(model.objects.order_by("pk").values_list(*fields)) for model, fields in rows.items()),
    )


def check_api_problem(response) -> None:
    assert response["Content-Type"] == PROBLEM, response.content
    document = response.json()
    assert document["status"] == response.status_code
    assert document["type"].startswith("/problems/") and document["detail"]
    if response.status_code == 400:
        assert document["errors"], document  # a 400 says where
        for error in document["errors"]:
            assert error["detail"] and isinstance(error["path"], str)
            # "" points at the whole body; "/" at the key "" (RFC 6901)
            assert error["pointer"] == "" or error["pointer"].startswith("/")


def check_fhir_outcome(response) -> None:
    assert response["Content-Type"] == FHIR, response.content
    document = response.json()
    assert document["resourceType"] == "OperationOutcome"
    errors = [issue for issue in document["issue"] if issue["severity"] in ("error", "fatal")]
    assert errors and all(issue["details"]["text"] for issue in errors)
    if response.status_code == 400:
        assert all(issue.get("expression") for issue in errors), document  # a 400 says where


@pytest.mark.parametrize(("path", "method"), write_endpoints())
@settings(
    max_examples=25,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_body_at_any_write_endpoint_is_answered_and_located(api, world, path, method, data):
    body = seed_body(path, world["patient"])
    mutated = mutate(data.draw, body, field_names(body))
    raw = encode(mutated).encode("ascii")
    content_type = FHIR if path.startswith("/fhir/") else "application/json"
    before = snapshot()
    response = api.generic(method, fill(path, world["ids"]), raw, content_type=content_type)
    assert response.status_code < 500, (raw[:500], response.content[:500])
    if response.status_code >= 400:
        assert snapshot() == before, raw[:500]  # a refused body writes nothing
        if path.startswith("/fhir/"):
            check_fhir_outcome(response)
        else:
            check_api_problem(response)


def test_every_write_endpoint_is_fuzzed():
    paths = {path for path, _ in write_endpoints()}
    assert len(paths) >= 15 and {"/fhir/QuestionnaireResponse", "/api/v1/intakes/"} <= paths
