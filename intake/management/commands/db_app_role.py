"""Create or update the PostgreSQL role the service runs as: it reads and writes data, owns nothing.

Run by the database owner (the role `migrate` runs as) after every `migrate`. The role gets
SELECT, INSERT, UPDATE and DELETE on the tables of the schema and may use their sequences, but on
the audit trail only SELECT and INSERT, and on `django_migrations` only SELECT. It owns no table,
so it cannot ALTER, DROP or TRUNCATE one, nor disable or replace the audit trail's triggers; it is
no superuser, so it cannot set `session_replication_role` either (README "Deployment").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from intake.models import AuditEvent

_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# PostgreSQL's own count for SCRAM-SHA-256 verifiers (scram_iterations, default 4096).
SCRAM_ITERATIONS = 4096
DATA_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
READ_ONLY_TABLES = ("django_migrations",)
# Attributes that would let the role escape its grants; each is refused explicitly.
ROLE_ATTRIBUTES = {
    "rolsuper": "NOSUPERUSER",
    "rolcreatedb": "NOCREATEDB",
    "rolcreaterole": "NOCREATEROLE",
    "rolreplication": "NOREPLICATION",
    "rolbypassrls": "NOBYPASSRLS",
}


def scram_sha256_verifier(password: str, *, salt: bytes | None = None) -> str:
    """The verifier PostgreSQL stores for `password` (RFC 5802, RFC 7677).

    Sent instead of the password, so the password never reaches the server's statement log.
    Printable ASCII only: PostgreSQL normalises other passwords with SASLprep first.
    """
    salt = salt if salt is not None else secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("ascii"), salt, SCRAM_ITERATIONS)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _read_password(path: str) -> str:
    try:
        password = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"--password-file {path}: cannot read it ({exc}).") from exc
    if not 12 <= len(password) <= 1000 or not all(" " < c < "\x7f" for c in password):
        raise CommandError(
            "--password-file: the password must be 12 to 1000 printable ASCII characters, no spaces."
        )
    return password


class Command(BaseCommand):
    help = (
        "Create or update the PostgreSQL role the service runs as (no ownership, no superuser; "
        "the audit trail insert-only). Run with the owner's DATABASE_URL after every migrate."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", required=True, help="Role name, e.g. clinic_app")
        parser.add_argument(
            "--password-file",
            default=None,
            help="File holding the role's password (first line). Omitted: a new role gets no "
            "password (certificate or peer authentication); an existing one keeps its own.",
        )
        parser.add_argument("--database", default="default", help="Database alias (default: default)")

    def handle(self, *args: Any, **options: Any) -> None:
        role = options["role"]
        if not _ROLE_NAME.match(role):
            raise CommandError("--role: lower-case letters, digits and _, at most 63, not a digit first.")
        password = _read_password(options["password_file"]) if options["password_file"] else None
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            raise CommandError("db_app_role needs PostgreSQL: other databases have no roles to set up.")
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_schema(), current_database()")
            owner, schema, database = cursor.fetchone()
            if role == owner:
                raise CommandError(
                    f"{role} is the role this command runs as, which owns the tables: run it as the "
                    "owner and name another role for the service."
                )
            if AuditEvent._meta.db_table not in connection.introspection.table_names(cursor):
                raise CommandError("The tables do not exist yet: run migrate first, as the owner.")
            self._create_or_update(connection, cursor, role, password)
            self._refuse_ownership(cursor, role, owner, schema)
            self._grant(connection, cursor, role, owner, schema, database)
        self.stdout.write(
            f"Role {role}: LOGIN, no superuser, owns nothing in schema {schema}; "
            f"{DATA_PRIVILEGES} on its tables, SELECT and INSERT only on {AuditEvent._meta.db_table}. "
            f"Serve with DATABASE_URL=postgres://{role}:…@host/{database}; migrate as {owner}."
        )

    def _create_or_update(
        self, connection: BaseDatabaseWrapper, cursor: CursorWrapper, role: str, password: str | None
    ) -> None:
        quoted = connection.ops.quote_name(role)
        verifier = scram_sha256_verifier(password) if password is not None else None
        password_clause = " PASSWORD %s" if verifier is not None else ""
        params = [verifier] if verifier is not None else []
        columns = ", ".join(ROLE_ATTRIBUTES)
        cursor.execute(f"SELECT {columns} FROM pg_roles WHERE rolname = %s", [role])  # noqa: S608 - constant column names
        current = cursor.fetchone()
        if current is None:
            attributes = " ".join(["LOGIN", *ROLE_ATTRIBUTES.values()])
            cursor.execute(f"CREATE ROLE {quoted} WITH {attributes}{password_clause}", params)
            return
        # Only the attributes that are set: changing SUPERUSER, REPLICATION or BYPASSRLS at all
        # needs a superuser, and the owner of a managed database often is none.
        taken_back = [off for off, is_set in zip(ROLE_ATTRIBUTES.values(), current, strict=True) if is_set]
        attributes = " ".join(["LOGIN", *taken_back])
        cursor.execute(f"ALTER ROLE {quoted} WITH {attributes}{password_clause}", params)

    def _refuse_ownership(self, cursor: CursorWrapper, role: str, owner: str, schema: str) -> None:
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND pg_get_userbyid(c.relowner) = %s",
            [schema, role],
        )
        (owned,) = cursor.fetchone()
        if owned:
            raise CommandError(
                f"{role} owns {owned} relation(s) in schema {schema}, so it could alter them: "
                f"REASSIGN OWNED BY {role} TO {owner}, then run this again."
            )
        cursor.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [role, owner])
        if cursor.fetchone()[0]:
            raise CommandError(f"{role} is a member of {owner}, the owner: REVOKE {owner} FROM {role}.")

    def _grant(
        self,
        connection: BaseDatabaseWrapper,
        cursor: CursorWrapper,
        role: str,
        owner: str,
        schema: str,
        database: str,
    ) -> None:
        quote = connection.ops.quote_name
        grantee, in_schema = quote(role), quote(schema)
        audit_table = quote(AuditEvent._meta.db_table)
        statements = [
            f"GRANT CONNECT ON DATABASE {quote(database)} TO {grantee}",
            f"GRANT USAGE ON SCHEMA {in_schema} TO {grantee}",
            # From a clean slate, so a second run also takes back what an earlier grant gave.
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {in_schema} FROM {grantee}",
            f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {in_schema} FROM {grantee}",
            f"GRANT {DATA_PRIVILEGES} ON ALL TABLES IN SCHEMA {in_schema} TO {grantee}",
            f"REVOKE UPDATE, DELETE ON {audit_table} FROM {grantee}",
            *(
                f"REVOKE INSERT, UPDATE, DELETE ON {quote(table)} FROM {grantee}"
                for table in READ_ONLY_TABLES
            ),
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {in_schema} TO {grantee}",
            # Tables a later migration creates are usable at once; run this command again after
            # migrate anyway, so a new table that must stay append-only is narrowed here.
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote(owner)} IN SCHEMA {in_schema} "
            f"GRANT {DATA_PRIVILEGES} ON TABLES TO {grantee}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote(owner)} IN SCHEMA {in_schema} "
            f"GRANT USAGE, SELECT ON SEQUENCES TO {grantee}",
        ]
        for statement in statements:
            cursor.execute(statement)
        if getattr(connection, "pg_version", 0) >= 150000:
            # PostgreSQL 15 can grant SET on a superuser parameter to an ordinary role.
            cursor.execute("SELECT has_parameter_privilege(%s, 'session_replication_role', 'SET')", [role])
            if cursor.fetchone()[0]:
                cursor.execute(f"REVOKE SET ON PARAMETER session_replication_role FROM {grantee}")
