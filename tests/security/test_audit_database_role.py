"""The audit trail cannot be emptied or altered from the database, and the service runs without
owning it: `manage.py db_app_role` makes a role that can use the data but not change the trail.

PostgreSQL only (roles, grants and triggers); the role is made in the test database's cluster
under a random name and dropped afterwards.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, connections
from psycopg import errors
from rest_framework.test import APIClient

from intake.management.commands.db_app_role import scram_sha256_verifier
from intake.models import AuditEvent, Intake, Patient
from intake.services.integrations import integration_client_create
from tests.builders import initial_intake
from tests.factories import ClinicFactory, IdentifierFactory, PatientFactory

AUDIT = AuditEvent._meta.db_table
MRN = {"system": "urn:role", "value": "R-1"}


def _audit_row() -> AuditEvent:
    return AuditEvent.objects.create(
        actor="anonymous", action="read", object_type="patient", outcome="success", status_code=200
    )


# --- The service's role --------------------------------------------------------------------------

ROLE_PASSWORD = "role-test-" + uuid.uuid4().hex


@pytest.fixture
def app_role(transactional_db, tmp_path: Path) -> Iterator[str]:
    role = f"clinic_app_test_{uuid.uuid4().hex[:10]}"
    password_file = tmp_path / "password"
    password_file.write_text(ROLE_PASSWORD + "\n")
    call_command("db_app_role", "--role", role, "--password-file", str(password_file), stdout=None)
    yield role
    with connection.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{role}"')  # its grants, here and on the database
        cursor.execute(f'DROP ROLE "{role}"')


@contextmanager
def _connected_as(role: str) -> Iterator[psycopg.Connection]:
    params = connection.settings_dict
    with psycopg.connect(
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        dbname=params["NAME"],
        user=role,
        password=ROLE_PASSWORD,
        autocommit=True,
    ) as conn:
        yield conn


FORBIDDEN_TO_THE_ROLE = {
    "update a row": "UPDATE intake_auditevent SET outcome = 'error'",
    "delete a row": "DELETE FROM intake_auditevent",
    "truncate": "TRUNCATE intake_auditevent",
    "disable the guard": "ALTER TABLE intake_auditevent DISABLE TRIGGER intake_auditevent_append_only",
    "disable every trigger": "ALTER TABLE intake_auditevent DISABLE TRIGGER ALL",
    "drop the guard": "DROP TRIGGER intake_auditevent_append_only ON intake_auditevent",
    "add a trigger": (
        "CREATE TRIGGER t BEFORE INSERT ON intake_auditevent "
        "FOR EACH ROW EXECUTE FUNCTION intake_audit_append_only()"
    ),
    "replace the guard's function": (
        "CREATE OR REPLACE FUNCTION intake_audit_append_only() RETURNS trigger AS $$ "
        "BEGIN RETURN NULL; END $$ LANGUAGE plpgsql"
    ),
    "drop the guard's function": "DROP FUNCTION intake_audit_append_only() CASCADE",
    "drop the table": "DROP TABLE intake_auditevent",
    "rename the table": "ALTER TABLE intake_auditevent RENAME TO audit_old",
    "take the table": "ALTER TABLE intake_auditevent OWNER TO CURRENT_USER",
    "replica mode": "SET session_replication_role = replica",
    "become superuser": "ALTER ROLE CURRENT_USER SUPERUSER",
    "become the owner": "SET ROLE {owner}",
    "alter an app table": "ALTER TABLE intake_patient ADD COLUMN x int",
}


@pytest.mark.postgres
@pytest.mark.parametrize("statement", FORBIDDEN_TO_THE_ROLE.values(), ids=FORBIDDEN_TO_THE_ROLE.keys())
def test_the_service_role_cannot_alter_or_empty_the_trail(app_role, statement):
    # given
    _audit_row()
    with _connected_as(app_role) as conn:
        # when / then
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(statement.format(owner=connection.settings_dict["USER"]))
        # and what it may do, on the same connection (so the failure is not of the connection)
        conn.execute(
            "INSERT INTO intake_auditevent (at, actor, action, object_type, object_id, outcome, status_code, "
            "method, path, request_id) VALUES (now(), 'x', 'read', 'patient', '', 'success', 200, "
            "'GET', '/', '')"
        )
        assert conn.execute("SELECT count(*) FROM intake_auditevent").fetchone() == (2,)
    assert AuditEvent.objects.filter(outcome="success").count() == 2


@pytest.mark.postgres
def test_the_service_role_is_an_ordinary_login_role_owning_nothing(app_role):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls "
            "FROM pg_roles WHERE rolname = %s",
            [app_role],
        )
        assert cursor.fetchone() == (True, False, False, False, False, False)
        cursor.execute("SELECT count(*) FROM pg_class WHERE pg_get_userbyid(relowner) = %s", [app_role])
        assert cursor.fetchone() == (0,)
        cursor.execute(
            "SELECT privilege_type FROM information_schema.table_privileges "
            "WHERE grantee = %s AND table_name = %s ORDER BY 1",
            [app_role, AUDIT],
        )
        assert [row[0] for row in cursor.fetchall()] == ["INSERT", "SELECT"]


@pytest.mark.postgres
def test_running_the_command_again_takes_back_a_wider_grant(app_role, tmp_path):
    # given: someone widened the role's rights by hand
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT ALL ON {AUDIT} TO "{app_role}"')
    # when: the command runs again (as after every migrate), keeping the password
    call_command("db_app_role", "--role", app_role, stdout=None)
    # then
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p, has_table_privilege(%s, %s, p) FROM unnest(ARRAY["
            "'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p",
            [app_role, AUDIT],
        )
        assert dict(cursor.fetchall()) == {
            "SELECT": True,
            "INSERT": True,
            "UPDATE": False,
            "DELETE": False,
            "TRUNCATE": False,
            "REFERENCES": False,
            "TRIGGER": False,
        }


@pytest.mark.postgres
def test_a_table_a_later_migration_creates_is_usable_by_the_role(app_role):
    # given
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE intake_later (id bigint GENERATED BY DEFAULT AS IDENTITY, note text)")
    try:
        # when / then
        with _connected_as(app_role) as conn:
            conn.execute("INSERT INTO intake_later (note) VALUES ('a')")
            assert conn.execute("SELECT count(*) FROM intake_later").fetchone() == (1,)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE intake_later")


@contextmanager
def _service_connected_as(role: str) -> Iterator[None]:
    """The Django connection logs in as `role` (as a deployment serving with its URL would)."""
    wrapper = connections["default"]
    saved = dict(wrapper.settings_dict)
    wrapper.close()
    wrapper.settings_dict.update(USER=role, PASSWORD=ROLE_PASSWORD)
    try:
        yield
    finally:
        wrapper.close()
        wrapper.settings_dict.update(saved)


@pytest.mark.postgres
def test_the_service_works_as_that_role(app_role):
    # given: data set up by the owner
    clinic = ClinicFactory()
    IdentifierFactory(patient=PatientFactory(clinic=clinic), **MRN)
    integration, secret = integration_client_create(
        clinic=clinic, name="EHR", scopes=list(settings.API_SCOPES)
    )
    with _service_connected_as(app_role):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone() == (app_role,)
        # when: a token is issued, an intake submitted and read, a patient changed, a flag handled
        basic = base64.b64encode(f"{integration.application.client_id}:{secret}".encode()).decode()
        token = APIClient().post(
            "/o/token/",
            "grant_type=client_credentials",
            content_type="application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=f"Basic {basic}",
        )
        assert token.status_code == 200, token.content
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token.json()['access_token']}")
        created = api.post(
            "/api/v1/intakes/",
            initial_intake({"identifier": MRN}, responses={"phq9": {"q9": 1}}),
            format="json",
        )
        assert created.status_code == 201, created.content
        intake = created.json()
        patient_id = Intake.objects.get(pk=intake["id"]).patient_id
        assert api.get(f"/api/v1/intakes/{intake['id']}/").status_code == 200
        assert api.get(f"/api/v1/patients/{patient_id}/").status_code == 200
        patch = api.patch(f"/api/v1/patients/{patient_id}/", {"given_name": "Ana"}, format="json")
        assert patch.status_code == 200, patch.content
        flag = intake["flags"][0]["id"]
        assert api.post(f"/api/v1/flags/{flag}/acknowledge/", {}, format="json").status_code == 200
        assert APIClient().get("/readyz").status_code == 200
    # then: each of those was recorded, by the role
    assert Patient.objects.get(pk=patient_id).given_name == "Ana"
    recorded = set(AuditEvent.objects.values_list("object_type", "action", "outcome"))
    assert {
        ("oauth2_token", "create", "success"),
        ("intake", "create", "success"),
        ("patient", "update", "success"),
        ("flag", "update", "success"),
    } <= recorded


# --- The command's refusals and its password handling ------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_command_refuses_to_grant_to_the_owner_itself():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()
    with pytest.raises(CommandError, match="owns the tables"):
        call_command("db_app_role", "--role", owner)


@pytest.mark.django_db
def test_the_command_refuses_a_role_name_it_would_have_to_quote():
    with pytest.raises(CommandError, match="--role"):
        call_command("db_app_role", "--role", 'app"; DROP TABLE x; --')


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_password_is_sent_as_the_verifier_postgresql_itself_computes():
    # given: PostgreSQL's own verifier for a password (CREATE ROLE is undone with the test)
    password = "Correct-Horse-9"
    role = f"clinic_scram_{uuid.uuid4().hex[:10]}"
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL password_encryption = 'scram-sha-256'")
        cursor.execute(f'CREATE ROLE "{role}" PASSWORD %s', [password])
        cursor.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [role])
        (stored,) = cursor.fetchone()
    salt = base64.b64decode(re.match(r"SCRAM-SHA-256\$\d+:([^$]+)\$", stored)[1])
    # when / then
    assert scram_sha256_verifier(password, salt=salt) == stored


@pytest.mark.django_db
def test_the_command_explains_that_it_needs_postgresql(monkeypatch):
    # on any database the suite runs on: the connection says it is SQLite, as the default is
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("db_app_role", "--role", "clinic_app")


@pytest.mark.postgres
def test_running_the_command_again_takes_back_a_granted_replication_role_switch(app_role):
    # given: PostgreSQL 15 lets a superuser grant SET on the parameter to an ordinary role
    if connection.pg_version < 150000:
        pytest.skip("SET privileges on parameters exist from PostgreSQL 15")
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT SET ON PARAMETER session_replication_role TO "{app_role}"')
    with _connected_as(app_role) as conn:
        conn.execute("SET session_replication_role = replica")  # the grant works
    # when
    call_command("db_app_role", "--role", app_role, stdout=None)
    # then
    with _connected_as(app_role) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute("SET session_replication_role = replica")
