"""Every access to patient data is recorded once, without PHI; the trail is append-only."""

from __future__ import annotations

import uuid

import pytest
from django.db import DatabaseError, connection
from fhir.resources.R4B.bundle import Bundle
from rest_framework.test import APIClient

from intake.models import AppendOnlyError, AuditEvent, Intake, Patient
from tests.builders import initial_intake
from tests.factories import ClinicFactory, IdentifierFactory, MembershipFactory, PatientFactory

pytestmark = pytest.mark.django_db

MRN = {"system": "urn:audit", "value": "A-1"}


@pytest.fixture
def patient(clinic):
    patient = PatientFactory(clinic=clinic, family_name="Zyxwvutsrq")
    IdentifierFactory(patient=patient, **MRN)
    return patient


def _events_since(count_before: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.order_by("pk")[count_before:])


def test_scripted_session_records_each_access_exactly_once(api, patient):
    steps = []

    def step(method, path, expected_type, action, body=None, **extra):
        before = AuditEvent.objects.count()
        response = (
            getattr(api, method)(path, body, format="json", **extra)
            if body is not None
            else getattr(api, method)(path, **extra)
        )
        assert response.status_code < 400, (path, response.content)
        events = _events_since(before)
        steps.append((path, [(e.action, e.object_type) for e in events]))
        assert [(e.action, e.object_type) for e in events] == [(action, expected_type)], path
        assert all(e.patient_id == patient.pk for e in events), path
        assert all(e.outcome == "success" and e.request_id and e.actor.startswith("client:") for e in events)
        return response

    step("get", f"/api/v1/patients/{patient.id}/", "patient", "read")
    step("patch", f"/api/v1/patients/{patient.id}/", "patient", "update", {"given_name": "Ana"})
    step("get", "/api/v1/patients/", "patient", "read", HTTP_X_UNUSED="1")
    created = step(
        "post",
        "/api/v1/intakes/",
        "intake",
        "create",
        initial_intake({"identifier": MRN}, responses={"phq9": {"q9": 1}}),
    ).json()
    step("get", f"/api/v1/intakes/{created['id']}/", "intake", "read")
    step("get", f"/api/v1/intakes/{created['id']}/revisions/", "intake", "read")
    step("get", "/api/v1/intakes/", "intake", "read")
    flag_id = created["flags"][0]["id"]
    step("get", "/api/v1/flags/", "flag", "read")
    step("get", f"/api/v1/flags/{flag_id}/", "flag", "read")
    step("post", f"/api/v1/flags/{flag_id}/acknowledge/", "flag", "update", {})
    step("get", f"/api/v1/patients/{patient.id}/trajectory/", "patient", "read")
    step("post", f"/api/v1/patients/{patient.id}/deactivate/", "patient", "update", {})
    assert len(steps) == 12


def test_a_list_page_records_one_complete_row_per_object_listed(api, clinic, patient):
    others = [PatientFactory(clinic=clinic) for _ in range(3)]
    before = AuditEvent.objects.count()
    response = api.get("/api/v1/patients/", HTTP_X_REQUEST_ID="req-list-1", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    events = _events_since(before)
    assert sorted(e.object_id for e in events) == sorted(str(p.pk) for p in [patient, *others])
    for event in events:
        assert event.patient_id == uuid.UUID(event.object_id)
        assert (event.clinic_id, event.action, event.object_type, event.outcome) == (
            clinic.pk,
            "read",
            "patient",
            "success",
        )
        assert event.actor.startswith("client:") and event.request_id == "req-list-1"
        assert (event.status_code, event.method, event.path) == (200, "GET", "/api/v1/patients/")
        assert event.client_address == "10.1.2.3" and event.at is not None


def test_a_list_that_cannot_be_audited_returns_no_data(api, clinic, patient):
    PatientFactory(clinic=clinic)
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:  # the database itself refuses audit rows
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION test_refuse_audit() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'audit table unavailable'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                f"CREATE TRIGGER test_refuse_audit BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER test_refuse_audit BEFORE INSERT ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'audit table unavailable'); END"
            )
    response = api.get("/api/v1/patients/")
    assert response.status_code == 503
    assert "Zyxwvutsrq" not in response.content.decode()


def test_audit_rows_hold_no_phi_values(api, patient):
    api.get(f"/api/v1/patients/{patient.id}/")
    api.post("/api/v1/intakes/", initial_intake({"identifier": MRN}), format="json")
    for event in AuditEvent.objects.all():
        row = " ".join(str(getattr(event, f.name)) for f in AuditEvent._meta.concrete_fields)
        assert "Zyxwvutsrq" not in row
        assert "A-1" not in row


def test_refused_access_is_recorded_with_its_outcome(api_for, patient):
    stranger = api_for(ClinicFactory())
    stranger.get(f"/api/v1/patients/{patient.id}/")
    event = AuditEvent.objects.get()
    assert event.outcome == "not_found"
    assert event.status_code == 404
    assert event.object_id == str(patient.id)
    APIClient().get(f"/api/v1/patients/{patient.id}/")
    anonymous = AuditEvent.objects.order_by("pk").last()
    assert (anonymous.actor, anonymous.outcome) == ("anonymous", "denied")


def test_a_write_that_cannot_be_audited_is_not_made(api, patient, monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("audit table unavailable")

    monkeypatch.setattr(AuditEvent.objects, "bulk_create", broken)
    response = api.post("/api/v1/intakes/", initial_intake({"identifier": MRN}), format="json")
    assert response.status_code == 503
    assert response.json()["type"] == "/problems/audit-unavailable"
    assert not Intake.objects.exists()
    patch = api.patch(f"/api/v1/patients/{patient.id}/", {"given_name": "Changed"}, format="json")
    assert patch.status_code == 503
    assert Patient.objects.get(pk=patient.pk).given_name != "Changed"


def test_a_fhir_request_that_cannot_be_audited_gets_an_operation_outcome(api, monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("audit table unavailable")

    monkeypatch.setattr(AuditEvent.objects, "bulk_create", broken)
    response = api.get("/fhir/Questionnaire/phq9")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/fhir+json"
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response["Retry-After"] == "5"


def test_a_read_that_cannot_be_audited_returns_no_data(api, patient, monkeypatch):
    monkeypatch.setattr(
        AuditEvent.objects, "bulk_create", lambda *a, **k: (_ for _ in ()).throw(DatabaseError("x"))
    )
    response = api.get(f"/api/v1/patients/{patient.id}/")
    assert response.status_code == 503
    assert "Zyxwvutsrq" not in response.content.decode()


def test_request_id_is_echoed_and_recorded(api, patient):
    response = api.get(f"/api/v1/patients/{patient.id}/", HTTP_X_REQUEST_ID="trace-123")
    assert response["X-Request-ID"] == "trace-123"
    assert AuditEvent.objects.get().request_id == "trace-123"


def test_orm_cannot_update_or_delete_audit_rows(api, patient):
    api.get(f"/api/v1/patients/{patient.id}/")
    event = AuditEvent.objects.get()
    event.outcome = "error"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update(outcome="error")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


@pytest.mark.postgres
def test_sql_cannot_update_or_delete_audit_rows_on_postgres(api, patient):
    api.get(f"/api/v1/patients/{patient.id}/")
    for statement in ("UPDATE intake_auditevent SET outcome = 'error'", "DELETE FROM intake_auditevent"):
        with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cursor:
            from django.db import transaction

            with transaction.atomic():
                cursor.execute(statement)
    assert AuditEvent.objects.get().outcome == "success"


def test_clinic_admin_exports_a_patients_trail_as_fhir_audit_events(api, clinic, patient):
    api.get(f"/api/v1/patients/{patient.id}/")
    admin = APIClient()
    admin.force_login(MembershipFactory(clinic=clinic, role="clinic_admin").user)
    response = admin.get("/fhir/AuditEvent", {"patient": f"Patient/{patient.id}"})
    assert response.status_code == 200
    bundle = response.json()
    Bundle.model_validate(bundle)
    first = bundle["entry"][0]["resource"]
    assert first["action"] == "R"
    assert first["entity"][0]["what"]["reference"] == f"Patient/{patient.id}"
    export = AuditEvent.objects.order_by("pk").last()
    assert (export.action, export.object_type) == ("export", "fhir:AuditEvent")


@pytest.mark.parametrize("role", ["reception", "coordinator", "clinician"])
def test_only_clinic_admins_may_export_the_trail(clinic, patient, role):
    staff = APIClient()
    staff.force_login(MembershipFactory(clinic=clinic, role=role).user)
    assert staff.get("/fhir/AuditEvent", {"patient": str(patient.id)}).status_code == 403


def test_integration_clients_cannot_export_the_trail(api, patient):
    assert api.get("/fhir/AuditEvent", {"patient": str(patient.id)}).status_code == 403
