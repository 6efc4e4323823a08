"""Names and identifiers are one value in Unicode NFC on the way in and in search, on API v1 and
FHIR; control, format and separator characters and noncharacters are refused in every field that
is not free text, with a 400 naming the field (intake.text)."""

from __future__ import annotations

import json
import unicodedata

import pytest
from django.conf import settings
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from intake.fhir.questionnaire import questionnaire_for
from intake.instruments import get
from intake.models import FlagEvent, Intake, Patient, PatientIdentifier
from tests.builders import initial_intake
from tests.factories import IdentifierFactory, PatientFactory

pytestmark = pytest.mark.django_db

FHIR = "application/fhir+json"
SYSTEM = "urn:test:mrn"
NFC_VALUE = "MRN-Jos\u00e9"  # é as one code point
NFD_VALUE = "MRN-Jose\u0301"  # e + COMBINING ACUTE ACCENT
NEW = {"family_name": "Okafor", "given_name": "Ada", "birth_date": "1971-03-14", "gender": "female"}

# The reproducers of issue 12 item 15, and one of each other kind refused in short text.
FORBIDDEN = [
    "\u200b",  # ZERO WIDTH SPACE (Cf)
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE (Cf)
    "\u2028",  # LINE SEPARATOR (Zl)
    "\u2029",  # PARAGRAPH SEPARATOR (Zp)
    "\ufeff",  # BYTE ORDER MARK (Cf)
    "\uffff",  # noncharacter
    "\ufdd0",  # noncharacter
    "\U0010fffe",  # noncharacter
    "\u0000",  # NUL (Cc)
    "\u001b",  # ESCAPE (Cc)
    "\u0085",  # NEXT LINE (Cc)
    "\t",  # TAB (Cc): text, not a name
]


def register(api, value, **changes):
    body = {**NEW, "identifiers": [{"system": SYSTEM, "value": value}], **changes}
    return api.post("/api/v1/patients/", json.dumps(body), content_type="application/json")


def found_ids(api, **query) -> list[str]:
    response = api.get("/api/v1/patients/", query)
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def error_paths(response) -> list[str]:
    return [error["path"] for error in response.json()["errors"]]


# --- NFC on the way in and in search ------------------------------------------------------------


def test_identifier_registered_in_nfd_is_found_by_its_nfd_value(api):
    # given the reproducer: a patient registered with the decomposed value
    created = register(api, NFD_VALUE)
    assert created.status_code == 201
    # then the decomposed and the composed value both find it, with or without the system
    patient_id = created.json()["id"]
    assert found_ids(api, identifier=NFD_VALUE) == [patient_id]
    assert found_ids(api, identifier=f"{SYSTEM}|{NFD_VALUE}") == [patient_id]
    assert found_ids(api, identifier=NFC_VALUE) == [patient_id]
    assert PatientIdentifier.objects.get().value == NFC_VALUE


def test_nfd_registration_conflicts_with_nfc(api):
    assert register(api, NFC_VALUE).status_code == 201
    response = register(api, NFD_VALUE)
    assert response.status_code == 409
    assert Patient.objects.count() == 1


def test_name_search_matches_the_other_normal_form(api):
    created = register(api, "MRN-1", family_name="Mu\u0308ller").json()  # u + COMBINING DIAERESIS
    assert created["family_name"] == "M\u00fcller"
    assert found_ids(api, family="M\u00fcl") == [created["id"]]
    assert found_ids(api, family="Mu\u0308l") == [created["id"]]
    assert found_ids(api, name="Mu\u0308ller") == [created["id"]]


def test_intake_by_nfd_identifier_finds_the_nfc_patient(api, clinic):
    patient = PatientFactory(clinic=clinic)
    IdentifierFactory(patient=patient, system=SYSTEM, value=NFC_VALUE)
    body = initial_intake({"identifier": {"system": SYSTEM, "value": NFD_VALUE}})
    response = api.post("/api/v1/intakes/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["patient"] == str(patient.pk)


def test_fhir_subject_identifier_in_nfd_finds_the_nfc_patient(api, clinic):
    patient = PatientFactory(clinic=clinic)
    IdentifierFactory(patient=patient, system=SYSTEM, value=NFC_VALUE)
    resource = phq9_response({"identifier": {"system": SYSTEM, "value": NFD_VALUE}})
    response = post_fhir(api, resource)
    assert response.status_code == 201, response.json()
    assert Intake.objects.get().patient_id == patient.pk


# Identifier text: letters with combining marks, so that NFC and NFD differ often; no character the
# rules refuse (those are tested below).
identifier_text = st.text(
    alphabet=st.characters(categories=["Lu", "Ll", "Lo", "Mn", "Nd", "Pd", "Zs"], exclude_characters="|"),
    min_size=1,
    max_size=40,
).filter(lambda text: text.strip() == text and text.strip())


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=identifier_text,
    stored_form=st.sampled_from(["NFC", "NFD"]),
    searched_form=st.sampled_from(["NFC", "NFD"]),
)
def test_any_identifier_is_found_by_any_canonically_equivalent_form(api, text, stored_form, searched_form):
    # given a patient registered with the identifier in one normal form
    stored = unicodedata.normalize(stored_form, text)
    assume(len(unicodedata.normalize("NFC", stored)) <= 255)
    Patient.objects.all().delete()
    response = register(api, stored)
    assert response.status_code == 201, response.json()
    # when it is searched in another canonically equivalent form
    searched = unicodedata.normalize(searched_form, text)
    # then it is found (compatibility equivalents, NFKC, need not be)
    assert found_ids(api, identifier=f"{SYSTEM}|{searched}") == [response.json()["id"]]
    assert found_ids(api, identifier=searched) == [response.json()["id"]]


# --- forbidden characters -------------------------------------------------------------------------


@pytest.mark.parametrize("char", FORBIDDEN, ids=[f"U+{ord(c):04X}" for c in FORBIDDEN])
@pytest.mark.parametrize(
    ("field", "path"),
    [
        ("family_name", "family_name"),
        ("given_name", "given_name"),
        ("system", "identifiers[0].system"),
        ("value", "identifiers[0].value"),
    ],
)
def test_forbidden_characters_in_patient_text_are_refused(api, char, field, path):
    identifier = {"system": SYSTEM, "value": "MRN-1"}
    body = {**NEW, "identifiers": [identifier]}
    if field in identifier:
        identifier[field] = f"{identifier[field]}{char}x"
    else:
        body[field] = f"{body[field]}{char}"  # trailing: DRF would have trimmed U+2028 silently
    response = api.post("/api/v1/patients/", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert path in error_paths(response)
    assert not Patient.objects.exists()


# Every character the short-text rule refuses: Cc, Cf, Zl, Zp and noncharacters (Cs, lone
# surrogates, cannot be sent as UTF-8 and are refused by the JSON parser).
forbidden_char = st.one_of(
    st.characters(categories=["Cc", "Cf", "Zl", "Zp"]),
    st.sampled_from([chr(c) for c in range(0xFDD0, 0xFDF0)]),
    st.integers(min_value=0, max_value=0x10).map(lambda plane: chr(plane * 0x10000 + 0xFFFE)),
    st.integers(min_value=0, max_value=0x10).map(lambda plane: chr(plane * 0x10000 + 0xFFFF)),
)

# (path named, body builder for a text) for every short-text field of the API's request bodies.
SHORT_TEXT_FIELDS = {
    "family_name": ("/api/v1/patients/", lambda text: {**NEW, "family_name": text}),
    "given_name": ("/api/v1/patients/", lambda text: {**NEW, "given_name": text}),
    "identifiers[0].system": (
        "/api/v1/patients/",
        lambda text: {**NEW, "identifiers": [{"system": text, "value": "1"}]},
    ),
    "identifiers[0].value": (
        "/api/v1/patients/",
        lambda text: {**NEW, "identifiers": [{"system": SYSTEM, "value": text}]},
    ),
    "patient.identifier.value": (
        "/api/v1/intakes/",
        lambda text: initial_intake({"identifier": {"system": SYSTEM, "value": text}}),
    ),
    "patient.family_name": (
        "/api/v1/intakes/",
        lambda text: initial_intake(
            {
                "identifier": {"system": SYSTEM, "value": "NEW-1"},
                "family_name": text,
                "given_name": "Ada",
                "birth_date": "1971-03-14",
            }
        ),
    ),
    "medications[0]": ("/api/v1/intakes/", lambda text: initial_intake({"id": None}, medications=[text])),
    "completed_at": (
        "/api/v1/intakes/",
        lambda text: initial_intake({"identifier": {"system": SYSTEM, "value": "1"}}, completed_at=text),
    ),
}


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(sorted(SHORT_TEXT_FIELDS)),
    char=forbidden_char,
    position=st.integers(min_value=0, max_value=10),
)
def test_any_forbidden_character_in_a_short_text_field_is_a_400_naming_it(api, path, char, position):
    url, build = SHORT_TEXT_FIELDS[path]
    valid = "2026-11-20T10:00:00Z" if path == "completed_at" else "Okafor-1"
    at = min(position, len(valid))
    body = build(valid[:at] + char + valid[at:])
    response = api.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.json()
    assert path in error_paths(response)
    assert not Patient.objects.exists() and not Intake.objects.exists()


@pytest.mark.parametrize("suffix", ["\u0000", "\n", "\u200b", " \u0001"])
def test_date_time_with_a_trailing_control_character_is_refused(api, clinic, suffix):
    # given the reproducer: Django's parser accepts "…Z" followed by a NUL or a newline
    patient = PatientFactory(clinic=clinic)
    body = initial_intake({"id": str(patient.pk)}, completed_at="2026-11-20T10:00:00Z" + suffix)
    response = api.post("/api/v1/intakes/", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert error_paths(response) == ["completed_at"]


def test_birth_date_with_a_trailing_newline_is_refused(api):
    response = api.post("/api/v1/patients/", {**NEW, "birth_date": "1971-03-14\n"}, format="json")
    assert response.status_code == 400
    assert error_paths(response) == ["birth_date"]


def test_webhook_url_with_a_zero_width_space_is_refused(api, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.0/8"]
    settings.WEBHOOK_ALLOW_HTTP = True
    body = {"url": "http://127.0.0.1:9/ho\u200bok", "event_types": ["flag.created"]}
    response = api.post("/api/v1/webhooks/", body, format="json")
    assert response.status_code == 400
    assert error_paths(response) == ["url"]


# --- free text --------------------------------------------------------------------------------


@pytest.fixture
def flag(api, clinic):
    from intake.models import ReferralFlag

    patient = PatientFactory(clinic=clinic)
    IdentifierFactory(patient=patient, system=SYSTEM, value="F-1")
    body = initial_intake({"identifier": {"system": SYSTEM, "value": "F-1"}})
    body["responses"]["red_flags"]["saddle_anaesthesia"] = True
    assert api.post("/api/v1/intakes/", body, format="json").status_code == 201
    return ReferralFlag.objects.get()


def test_free_text_keeps_newlines_tabs_and_joiners(api, flag):
    note = "Called the patient.\n\tBooked MRI 👩\u200d⚕️"
    response = api.post(f"/api/v1/flags/{flag.pk}/acknowledge/", {"note": note}, format="json")
    assert response.status_code == 200, response.json()
    assert FlagEvent.objects.filter(flag=flag).latest("at").note == note


@pytest.mark.parametrize("char", ["\u0000", "\u0001", "\u001b", "\u007f", "\ufdd0", "\uffff"])
def test_free_text_refuses_other_control_characters(api, flag, char):
    response = api.post(
        f"/api/v1/flags/{flag.pk}/dismiss/",
        json.dumps({"reason": f"dup{char}licate"}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert error_paths(response) == ["reason"]


# --- FHIR -------------------------------------------------------------------------------------


def phq9_response(subject, **changes):
    questionnaire = questionnaire_for(get("phq9"), base_url=settings.FHIR_CANONICAL_BASE)
    return {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": f"{questionnaire['url']}|{questionnaire['version']}",
        "subject": subject,
        "authored": "2026-11-20T10:00:00Z",
        "item": [{"linkId": f"q{n}", "answer": [{"valueInteger": 0}]} for n in range(1, 10)],
        **changes,
    }


def post_fhir(api, resource):
    return api.post("/fhir/QuestionnaireResponse", json.dumps(resource), content_type=FHIR)


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        (lambda r: r["item"][0].update(linkId="q\u200b1"), "QuestionnaireResponse.item[0].linkId"),
        (lambda r: r.update(authored="2026-11-20T10:00:00Z\n"), "QuestionnaireResponse.authored"),
        (
            lambda r: r.update(subject={"identifier": {"system": SYSTEM, "value": "F\u202e-1"}}),
            "QuestionnaireResponse.subject.identifier.value",
        ),
        (lambda r: r.update(id="abc\ufeff"), "QuestionnaireResponse.id"),
    ],
)
def test_fhir_short_text_with_a_format_character_is_a_400_outcome(api, clinic, change, expression):
    patient = PatientFactory(clinic=clinic)
    resource = phq9_response({"reference": f"Patient/{patient.pk}"})
    change(resource)
    response = post_fhir(api, resource)
    assert response.status_code == 400
    assert response["Content-Type"] == FHIR
    issue = response.json()["issue"][0]
    assert issue["expression"] == [expression]
    assert not Intake.objects.exists()


def test_fhir_free_text_may_hold_a_newline_and_a_joiner(api, clinic):
    patient = PatientFactory(clinic=clinic)
    resource = phq9_response({"reference": f"Patient/{patient.pk}"})
    resource["item"][0]["text"] = "Little interest\nor pleasure \u200d"
    assert post_fhir(api, resource).status_code == 201
