"""The audit trail cannot be emptied or changed by SQL, not even by a superuser session, short of
disabling its triggers (which only the table's owner can do; the service runs as another role).
"""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from intake.models import AuditEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _audit_row() -> AuditEvent:
    return AuditEvent.objects.create(
        actor="anonymous", action="read", object_type="patient", outcome="success", status_code=200
    )


@pytest.mark.parametrize("replica", [False, True], ids=["origin", "replica"])
@pytest.mark.parametrize(
    "statement",
    [
        "TRUNCATE intake_auditevent",
        "TRUNCATE intake_auditevent CASCADE",
        "DELETE FROM intake_auditevent",
        "UPDATE intake_auditevent SET actor = 'x'",
    ],
)
def test_even_a_superuser_cannot_empty_or_change_the_trail_without_disabling_its_triggers(statement, replica):
    # given: the test connects as a superuser, like the service did before db_app_role
    _audit_row()
    # when / then
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK check blocks TRUNCATE
        if replica:  # ordinary triggers do not fire in this mode; the guards are ENABLE ALWAYS
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(statement)
    assert AuditEvent.objects.count() == 1
