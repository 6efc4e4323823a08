"""Patients API: create, read, update, search, deactivate; clinic isolation."""

from __future__ import annotations

import json
import uuid

import pytest

from intake.models import Patient, PatientIdentifier
from tests.factories import IdentifierFactory, PatientFactory

pytestmark = pytest.mark.django_db

NEW = {
    "family_name": "Okafor",
    "given_name": "Ada",
    "birth_date": "1971-03-14",
    "gender": "female",
    "identifiers": [{"system": "urn:oid:2.16.840.1.113883.19.5", "value": "MRN-0042"}],
}


def test_create_patient_returns_201_with_location(api, clinic):
    response = api.post("/api/v1/patients/", NEW)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert response["Location"] == f"/api/v1/patients/{body['id']}/"
    assert body["identifiers"] == NEW["identifiers"]
    assert body["is_active"] is True
    assert Patient.objects.get(pk=body["id"]).clinic == clinic


def test_retrieve_patient(api, clinic):
    patient = PatientFactory(clinic=clinic)
    body = api.get(f"/api/v1/patients/{patient.id}/").json()
    assert body["family_name"] == patient.family_name


def test_patch_changes_only_given_fields(api, clinic):
    patient = PatientFactory(clinic=clinic, given_name="Alex")
    IdentifierFactory(patient=patient, value="KEEP")
    response = api.patch(f"/api/v1/patients/{patient.id}/", {"given_name": "Alexandra"})
    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.given_name == "Alexandra"
    assert [i.value for i in patient.identifiers.all()] == ["KEEP"]


def test_put_replaces_identifiers(api, clinic):
    patient = PatientFactory(clinic=clinic)
    IdentifierFactory(patient=patient, value="OLD")
    body = {**NEW, "identifiers": [{"system": "urn:x", "value": "NEW"}]}
    assert api.put(f"/api/v1/patients/{patient.id}/", body).status_code == 200
    assert [i.value for i in patient.identifiers.all()] == ["NEW"]


def test_deactivate_and_reactivate(api, clinic):
    patient = PatientFactory(clinic=clinic)
    assert api.post(f"/api/v1/patients/{patient.id}/deactivate/").json()["is_active"] is False
    assert api.get("/api/v1/patients/?active=false").json()["results"][0]["id"] == str(patient.id)
    assert api.post(f"/api/v1/patients/{patient.id}/reactivate/").json()["is_active"] is True


def test_patients_cannot_be_deleted(api, clinic):
    patient = PatientFactory(clinic=clinic)
    assert api.delete(f"/api/v1/patients/{patient.id}/").status_code == 405
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_search_by_identifier_token_system_and_value(api, clinic):
    patient = PatientFactory(clinic=clinic)
    IdentifierFactory(patient=patient, system="urn:ehr:a", value="123")
    other = PatientFactory(clinic=clinic)
    IdentifierFactory(patient=other, system="urn:ehr:b", value="123")
    found = api.get("/api/v1/patients/", {"identifier": "urn:ehr:a|123"}).json()["results"]
    assert [p["id"] for p in found] == [str(patient.id)]


def test_search_by_identifier_value_alone_matches_any_system(api, clinic):
    a = PatientFactory(clinic=clinic)
    IdentifierFactory(patient=a, system="urn:ehr:a", value="123")
    b = PatientFactory(clinic=clinic)
    IdentifierFactory(patient=b, system="urn:ehr:b", value="123")
    found = {p["id"] for p in api.get("/api/v1/patients/", {"identifier": "123"}).json()["results"]}
    assert found == {str(a.id), str(b.id)}


def test_search_by_name_and_birth_date(api, clinic):
    match = PatientFactory(clinic=clinic, family_name="Smith", birth_date="1980-05-01")
    PatientFactory(clinic=clinic, family_name="Smith", birth_date="1990-05-01")
    PatientFactory(clinic=clinic, family_name="Jones", birth_date="1980-05-01")
    found = api.get("/api/v1/patients/", {"family": "smi", "birth_date": "1980-05-01"}).json()["results"]
    assert [p["id"] for p in found] == [str(match.id)]
    by_name = api.get("/api/v1/patients/", {"name": "jon"}).json()["results"]
    assert len(by_name) == 1


def test_invalid_filter_value_is_400_naming_the_parameter(api):
    response = api.get("/api/v1/patients/", {"birth_date": "yesterday"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "birth_date"


def test_cursor_pagination_walks_every_patient_once(api, clinic):
    created = {str(PatientFactory(clinic=clinic).id) for _ in range(7)}
    seen: list[str] = []
    url = "/api/v1/patients/?page_size=3"
    while url:
        page = api.get(url).json()
        seen += [p["id"] for p in page["results"]]
        url = page["next"]
    assert len(seen) == 7
    assert set(seen) == created


def test_duplicate_identifier_in_clinic_is_409_naming_it(api, clinic):
    IdentifierFactory(
        patient=PatientFactory(clinic=clinic), system=NEW["identifiers"][0]["system"], value="MRN-0042"
    )
    response = api.post("/api/v1/patients/", NEW)
    assert response.status_code == 409
    assert response.json()["errors"][0]["path"] == "identifiers[0]"
    assert Patient.objects.filter(clinic=clinic).count() == 1


def test_same_identifier_in_another_clinic_is_allowed(api, clinic, other_clinic):
    IdentifierFactory(
        patient=PatientFactory(clinic=other_clinic), system=NEW["identifiers"][0]["system"], value="MRN-0042"
    )
    assert api.post("/api/v1/patients/", NEW).status_code == 201


def test_mass_assignment_of_clinic_or_status_is_refused(api, other_clinic):
    for field, value in [("clinic", other_clinic.pk), ("is_active", False), ("id", str(uuid.uuid4()))]:
        response = api.post("/api/v1/patients/", {**NEW, field: value})
        assert response.status_code == 400, field
        assert response.json()["errors"][0]["path"] == field
    assert not Patient.objects.exists()


def test_unknown_field_is_400(api):
    response = api.post("/api/v1/patients/", {**NEW, "favourite_colour": "blue"})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "path": "favourite_colour",
            "pointer": "/favourite_colour",
            "code": "invalid",
            "detail": "Unknown field.",
        }
    ]


def test_nested_field_error_has_json_path(api):
    response = api.post(
        "/api/v1/patients/", {**NEW, "identifiers": [{"system": "urn:a", "value": "1"}, {"system": "urn:a"}]}
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["path"] == "identifiers[1].value"
    assert error["pointer"] == "/identifiers/1/value"
    assert error["code"] == "required"


def test_future_birth_date_and_bad_gender_are_named(api):
    response = api.post("/api/v1/patients/", {**NEW, "birth_date": "2999-01-01", "gender": "robot"})
    paths = {e["path"] for e in response.json()["errors"]}
    assert paths == {"birth_date", "gender"}
    assert not Patient.objects.exists()


def test_names_are_normalised_to_nfc(api):
    decomposed = "Zoe\u0301"  # e + combining acute
    body = api.post("/api/v1/patients/", {**NEW, "given_name": decomposed}).json()
    assert body["given_name"] == "Zo\u00e9"


@pytest.mark.parametrize("bad", ["Ada\u0000", "Ada\u001b[31m", "Ada\ud800"])
def test_control_characters_and_lone_surrogates_are_refused(api, bad):
    # ensure_ascii writes the lone surrogate as the escape "\\ud800", as a hostile client would.
    raw = json.dumps({**NEW, "given_name": bad}, ensure_ascii=True)
    response = api.post("/api/v1/patients/", raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "given_name"


class TestClinicIsolation:
    """Another clinic's patient is invisible: every endpoint answers 404, never 403 or data."""

    @pytest.fixture
    def foreign(self, other_clinic):
        patient = PatientFactory(clinic=other_clinic)
        IdentifierFactory(patient=patient, system="urn:x", value="SECRET-1")
        return patient

    @pytest.mark.parametrize(
        ("method", "suffix", "body"),
        [
            ("get", "", None),
            ("patch", "", {"given_name": "X"}),
            ("put", "", NEW),
            ("post", "deactivate/", None),
            ("post", "reactivate/", None),
        ],
    )
    def test_detail_endpoints_are_404(self, api, foreign, method, suffix, body):
        response = getattr(api, method)(f"/api/v1/patients/{foreign.id}/{suffix}", body)
        assert response.status_code == 404
        assert foreign.family_name not in response.content.decode()
        foreign.refresh_from_db()
        assert foreign.is_active and foreign.given_name == "Alex"

    def test_list_and_search_do_not_reveal(self, api, foreign):
        assert api.get("/api/v1/patients/").json()["results"] == []
        assert api.get("/api/v1/patients/", {"identifier": "urn:x|SECRET-1"}).json()["results"] == []

    def test_unknown_and_malformed_ids_are_404(self, api):
        assert api.get(f"/api/v1/patients/{uuid.uuid4()}/").status_code == 404
        response = api.get("/api/v1/patients/not-a-uuid/")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"

    def test_identifier_taken_in_other_clinic_does_not_leak_on_update(self, api, clinic, foreign):
        mine = PatientFactory(clinic=clinic)
        response = api.patch(
            f"/api/v1/patients/{mine.id}/", {"identifiers": [{"system": "urn:x", "value": "SECRET-1"}]}
        )
        assert response.status_code == 200
        assert PatientIdentifier.objects.filter(value="SECRET-1").count() == 2


@pytest.mark.parametrize("method", ["patch", "put"])
@pytest.mark.parametrize(
    ("identifiers", "missing"),
    [
        ([{"system": "0"}], ["identifiers[0].value"]),
        ([{"value": "MRN-1"}], ["identifiers[0].system"]),
        ([{"system": "urn:a", "value": "1"}, {}], ["identifiers[1].system", "identifiers[1].value"]),
    ],
)
def test_identifier_missing_a_field_is_400_naming_it_on_update(api, clinic, method, identifiers, missing):
    # given
    patient = PatientFactory(clinic=clinic)
    IdentifierFactory(patient=patient, value="KEEP")
    body = {"identifiers": identifiers} if method == "patch" else {**NEW, "identifiers": identifiers}
    # when
    response = getattr(api, method)(f"/api/v1/patients/{patient.id}/", body, format="json")
    # then
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert [error["path"] for error in errors] == missing
    assert {error["code"] for error in errors} == {"required"}
    assert [i.value for i in patient.identifiers.all()] == ["KEEP"]
