"""Request bodies the parser refuses (duplicate keys, NUL, lone surrogates, numbers beyond a double),
with the place named, on /api/ and /fhir/; and no user text reaching int() unchecked."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

import intake.api.fhir_http as fhir_http
import intake.api.parsers as parsers
from intake.api.problems import problem_body
from intake.api.renderers import UnicodeSafeJSONRenderer
from intake.models import (
    Intake,
    IntakeRevision,
    OutboxEvent,
    Patient,
    PatientIdentifier,
    ReferralFlag,
    WebhookSubscription,
)
from intake.services.webhooks import subscription_create
from tests.builders import initial_intake
from tests.factories import IdentifierFactory, PatientFactory
from tests.fhir.test_inbound import lhc_response

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
FHIR = "application/fhir+json"
BAD = "@@BAD@@"  # a placeholder string, replaced by raw JSON text after json.dumps
MRN = {"system": "urn:bodies", "value": "B-1"}


def _rows() -> tuple[int, ...]:
    """Counts of everything a write endpoint could create or change."""
    models = (
        Patient,
        PatientIdentifier,
        Intake,
        IntakeRevision,
        ReferralFlag,
        OutboxEvent,
        WebhookSubscription,
    )
    return tuple(model.objects.count() for model in models)


def send(api, method: str, url: str, body: Any, raw: str, content_type: str = "application/json", **extra):
    """`body` as JSON with the placeholder string (key or value) replaced by the raw text `raw`."""
    text = json.dumps(body).replace(json.dumps(BAD), raw)
    return api.generic(method, url, text.encode(), content_type=content_type, **extra)


def problem(response, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    document = response.json()
    assert document["status"] == status and document["detail"]
    return document


def outcome(response, status: int = 400) -> list[dict[str, Any]]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == FHIR
    document = response.json()
    assert document["resourceType"] == "OperationOutcome"
    return document["issue"]


@pytest.fixture
def world(api, clinic, monkeypatch):
    """A patient with an MRN, an intake with an open flag, a webhook subscription."""
    import intake.services.ssrf as ssrf

    monkeypatch.setattr(ssrf, "_resolve", lambda host, port: ["93.184.215.14"])  # no DNS in tests
    patient = PatientFactory(clinic=clinic)
    IdentifierFactory(patient=patient, **MRN)
    body = initial_intake({"identifier": MRN}, responses={"phq9": {"q9": 1}})
    created = api.post("/api/v1/intakes/", body, format="json")
    assert created.status_code == 201, created.content
    intake = Intake.objects.get(pk=created.json()["id"])
    subscription = subscription_create(
        clinic=clinic, url="https://hooks.example/in", event_types=["flag.created"]
    )
    return {"patient": patient, "intake": intake, "flag": intake.flags.get(), "webhook": subscription}


def phq9_with_q9(value: Any) -> dict[str, Any]:
    body = initial_intake({"identifier": MRN})
    body["responses"]["phq9"]["q9"] = value
    return body


# --- item 1: duplicate keys ---------------------------------------------------------------------


def test_duplicate_answer_key_is_refused_and_raises_no_silent_flag(api, world):
    before = _rows()
    response = send(api, "POST", "/api/v1/intakes/", phq9_with_q9(BAD), '3, "q9": 0')
    document = problem(response)
    assert document["type"] == "/problems/parse-error"
    assert document["errors"] == [
        {
            "path": "responses.phq9.q9",
            "pointer": "/responses/phq9/q9",
            "code": "duplicate_key",
            "detail": "Key 'q9' appears more than once in this object; send each key once.",
        }
    ]
    assert document["detail"].startswith("responses.phq9.q9: ")
    assert _rows() == before


@pytest.mark.parametrize(
    ("method", "url", "body", "raw", "path"),
    [
        ("POST", "/api/v1/patients/", {"family_name": BAD}, '"A", "family_name": "B"', "family_name"),
        (
            "POST",
            "/api/v1/patients/",
            {"family_name": "A", "identifiers": [MRN, {"system": "urn:x", "value": BAD}]},
            '"1", "value": "2"',
            "identifiers[1].value",
        ),
        ("PATCH", "/api/v1/patients/{patient}/", {"given_name": BAD}, '"A", "given_name": "B"', "given_name"),
        ("POST", "/api/v1/flags/{flag}/dismiss/", {"reason": BAD}, '"a", "reason": "b"', "reason"),
        (
            "POST",
            "/api/v1/webhooks/",
            {"url": BAD},
            '"https://a.example/", "url": "https://b.example/"',
            "url",
        ),
    ],
)
def test_duplicate_key_anywhere_is_400_naming_its_path(api, world, method, url, body, raw, path):
    url = url.format(patient=world["patient"].pk, flag=world["flag"].pk)
    before = _rows()
    document = problem(send(api, method, url, body, raw))
    assert [(e["path"], e["code"]) for e in document["errors"]] == [(path, "duplicate_key")]
    assert _rows() == before


def test_every_duplicate_is_listed_in_document_order_and_the_list_is_capped(api, world):
    raw = "{" + ", ".join(f'"k{n}": 1, "k{n}": 2' for n in range(30)) + "}"
    response = api.generic("POST", "/api/v1/patients/", raw.encode(), content_type="application/json")
    document = problem(response)
    assert [e["path"] for e in document["errors"]] == [f"k{n}" for n in range(20)]
    assert document["detail"].endswith("(and 29 more)")


def fhir_qr(patient) -> dict[str, Any]:
    response = lhc_response({n: 1 for n in range(1, 10)})
    response["subject"] = {"reference": f"Patient/{patient.pk}"}
    return response


@pytest.mark.parametrize("url", ["/fhir/QuestionnaireResponse", "/fhir/QuestionnaireResponse/$extract"])
def test_duplicate_key_in_fhir_json_is_an_operation_outcome_with_its_fhirpath(api, world, url):
    document = fhir_qr(world["patient"])
    document["item"][8]["answer"][0]["valueCoding"]["code"] = BAD  # PHQ-9 item 9
    before = _rows()
    response = send(api, "POST", url, document, '"LA6571-9", "code": "LA6568-5"', content_type=FHIR)
    (issue,) = outcome(response)
    assert issue["severity"] == "error" and issue["code"] == "structure"
    assert issue["expression"] == ["QuestionnaireResponse.item[8].answer[0].valueCoding.code"]
    assert "more than once" in issue["diagnostics"]
    assert _rows() == before


def test_duplicate_key_sent_as_plain_json_to_fhir_is_still_an_operation_outcome(api, world):
    response = send(api, "POST", "/fhir/QuestionnaireResponse", {"status": BAD}, '"completed", "status": "x"')
    (issue,) = outcome(response)
    assert issue["expression"] == ["status"]  # no resourceType: the path starts at the resource


# --- items 5 and 11: lone surrogates and NUL ----------------------------------------------------


SURROGATE_CASES = [
    # (method, url, body with the placeholder, path of the placeholder)
    ("POST", "/api/v1/patients/", {BAD: 1}, BAD),
    ("POST", "/api/v1/patients/", {"family_name": "A", "given_name": "B", "gender": BAD}, "gender"),
    ("POST", "/api/v1/intakes/", {**initial_intake({"identifier": MRN}), "form": BAD}, "form"),
    ("POST", "/api/v1/intakes/", {**initial_intake({"identifier": MRN}), "work_status": BAD}, "work_status"),
    ("POST", "/api/v1/intakes/", phq9_with_q9(1) | {"medications": ["x", BAD]}, "medications[1]"),
    ("POST", "/api/v1/webhooks/", {"url": "https://a.example/", "event_types": [BAD]}, "event_types[0]"),
    ("POST", "/api/v1/flags/{flag}/dismiss/", {"reason": BAD}, "reason"),
    ("POST", "/api/v1/flags/{flag}/assign/", {BAD: 1}, BAD),
    ("PATCH", "/api/v1/patients/{patient}/", {"family_name": BAD}, "family_name"),
    ("PUT", "/api/v1/webhooks/{webhook}/", {"description": BAD}, "description"),
    ("POST", "/api/v1/intakes/{intake}/revisions/", {"reason": BAD}, "reason"),
]


def _responses_key_case() -> tuple[str, str, dict[str, Any], str]:
    body = initial_intake({"identifier": MRN})
    body["responses"]["phq9"][BAD] = 1
    return ("POST", "/api/v1/intakes/", body, f"responses.phq9.{BAD}")


@pytest.mark.parametrize(("method", "url", "body", "path"), [*SURROGATE_CASES, _responses_key_case()])
@pytest.mark.parametrize(
    ("raw", "escaped", "code"),
    [
        ('"\\ud800"', "\\ud800", "lone_surrogate"),
        ('"x\\udfffy"', "x\\udfffy", "lone_surrogate"),
        ('"a\\u0000b"', "a\\u0000b", "nul_character"),
    ],
)
def test_lone_surrogate_or_nul_is_400_naming_the_path(
    api, world, method, url, body, path, raw, escaped, code
):
    url = url.format(
        patient=world["patient"].pk,
        flag=world["flag"].pk,
        webhook=world["webhook"].pk,
        intake=world["intake"].pk,
    )
    before = _rows()
    document = problem(send(api, method, url, body, raw))
    # A refused key is named with the offending character spelled out, as in JSON.
    assert [(e["path"], e["code"]) for e in document["errors"]] == [(path.replace(BAD, escaped), code)]
    assert _rows() == before


@pytest.mark.parametrize(
    ("extra", "expression", "code"),
    [
        ('"id": "\\ud800"', "QuestionnaireResponse.id", "lone_surrogate"),
        ('"note": "a\\u0000b"', "QuestionnaireResponse.note", "nul_character"),
        ('"\\u0000": 1', "QuestionnaireResponse.`\\u0000`", "nul_character"),
        ('"note": 1e400', "QuestionnaireResponse.note", "number_out_of_range"),
    ],
)
@pytest.mark.parametrize("url", ["/fhir/QuestionnaireResponse", "/fhir/QuestionnaireResponse/$extract"])
def test_fhir_body_with_lone_surrogate_nul_or_infinity_is_an_operation_outcome(
    api, world, url, extra, expression, code
):
    text = json.dumps(fhir_qr(world["patient"]))
    raw = text[:-1] + ", " + extra + "}"
    before = _rows()
    response = api.generic("POST", url, raw.encode(), content_type=FHIR)
    (issue,) = outcome(response)
    assert issue["code"] == "invalid" and issue["expression"] == [expression]
    assert _rows() == before


@pytest.mark.postgres
def test_fhir_body_with_nul_never_reaches_postgresql_jsonb(api, world):
    test_fhir_body_with_lone_surrogate_nul_or_infinity_is_an_operation_outcome(
        api,
        world,
        "/fhir/QuestionnaireResponse",
        '"note": "a\\u0000b"',
        "QuestionnaireResponse.note",
        "nul_character",
    )


@pytest.mark.parametrize("number", ["1e400", "-1e400", "9" * 4301])
def test_number_out_of_range_is_400_naming_its_path(api, world, number):
    before = _rows()
    document = problem(send(api, "POST", "/api/v1/intakes/", phq9_with_q9(BAD), number))
    assert [(e["path"], e["code"]) for e in document["errors"]] == [
        ("responses.phq9.q9", "number_out_of_range")
    ]
    assert _rows() == before


def test_paired_surrogate_escape_is_one_character_and_accepted(api, world):
    response = send(
        api, "PATCH", f"/api/v1/patients/{world['patient'].pk}/", {"given_name": BAD}, '"Zo\\ud83d\\ude00"'
    )
    assert response.status_code == 200, response.content
    assert response.json()["given_name"] == "Zo\U0001f600"


def test_a_refused_body_with_an_idempotency_key_leaves_the_key_unused(api, world):
    response = send(
        api, "POST", "/api/v1/intakes/", phq9_with_q9(BAD), '3, "q9": 0', HTTP_IDEMPOTENCY_KEY="k-1"
    )
    problem(response)
    retried = api.post("/api/v1/intakes/", phq9_with_q9(3), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert retried.status_code == 201, retried.content
    assert "Idempotent-Replayed" not in retried


# --- defence in depth: renderers ----------------------------------------------------------------


def test_with_the_parser_check_off_an_echoed_surrogate_still_renders_as_a_400(api, world, monkeypatch):
    """Had a lone surrogate passed the parser, DRF's echo ('"\\ud800" is not a valid choice.')
    must not turn the 400 into a UnicodeEncodeError 500."""
    monkeypatch.setattr(parsers, "_UNSTORABLE", re.compile("(?!)"))  # matches nothing: checks off
    url = f"/api/v1/patients/{world['patient'].pk}/"
    response = send(api, "PATCH", url, {"gender": BAD}, '"\\ud800"')
    document = problem(response)
    assert document["errors"][0]["path"] == "gender"
    assert "\ufffd" in document["errors"][0]["detail"]
    assert Patient.objects.get(pk=world["patient"].pk).gender == world["patient"].gender


@pytest.mark.parametrize(
    "renderer",
    [UnicodeSafeJSONRenderer(), fhir_http.FhirJsonRenderer()],
)
def test_renderers_replace_lone_surrogates_in_keys_and_values(renderer):
    data = {"a\ud800": ["\udfff", {"k": "x\ud83dy"}], "n": 1, "e": "\U0001f600"}
    rendered = json.loads(renderer.render(data).decode("utf-8"))
    assert rendered == {"a\ufffd": ["\ufffd", {"k": "x\ufffdy"}], "n": 1, "e": "\U0001f600"}


def test_problem_documents_spell_out_nul_and_surrogates_they_echo():
    body = problem_body(
        400, code="x", detail="\x00 and \ud800", errors=[{"path": "a\x00", "detail": "\udc00"}]
    )
    assert body["detail"] == "\\u0000 and \\ud800"
    assert body["errors"] == [{"path": "a\\u0000", "detail": "\\udc00"}]


def test_an_unexpected_error_under_fhir_is_an_operation_outcome_not_problem_json(api, world, monkeypatch):
    """Item 11 saw a FHIR 500 answered as problem+json; whatever the crash, /fhir/ speaks FHIR."""

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(fhir_http, "map_questionnaire_response", crash)
    api.raise_request_exception = False
    response = api.post(
        "/fhir/QuestionnaireResponse", json.dumps(fhir_qr(world["patient"])), content_type=FHIR
    )
    (issue,) = outcome(response, 500)
    assert issue["code"] == "exception" and "boom" not in response.content.decode()


@pytest.mark.parametrize(("where", "value"), [("answer", 1), ("answer", ["x"]), ("item", {"a": 1})])
def test_fhir_item_or_answer_that_is_not_an_array_of_objects_is_422_naming_it(api, world, where, value):
    document = fhir_qr(world["patient"])
    document["item"][0][where] = value
    response = api.post("/fhir/QuestionnaireResponse", json.dumps(document), content_type=FHIR)
    (issue,) = outcome(response, 422)
    assert issue["code"] == "structure"
    assert issue["expression"] == [f"QuestionnaireResponse.item[0].{where}"]
