"""The audit trail refuses TRUNCATE too, and its guards fire in every replication role.

0005 refused UPDATE and DELETE row by row; TRUNCATE does not fire row triggers, so it emptied the
table. A statement trigger now refuses it. Both triggers become ENABLE ALWAYS: an ordinary trigger
does not fire while `session_replication_role = replica`, which any superuser session could set.
Only the table's owner can still disable a trigger, which is why the application runs as a role
that owns nothing (`manage.py db_app_role`, README "Deployment"). PostgreSQL only: other backends
rely on the ORM guard in the model.
"""

from django.db import migrations

GUARD = """
CREATE TRIGGER intake_auditevent_no_truncate
    BEFORE TRUNCATE ON intake_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION intake_audit_append_only();
ALTER TABLE intake_auditevent ENABLE ALWAYS TRIGGER intake_auditevent_no_truncate;
ALTER TABLE intake_auditevent ENABLE ALWAYS TRIGGER intake_auditevent_append_only;
"""
UNGUARD = """
ALTER TABLE intake_auditevent ENABLE TRIGGER intake_auditevent_append_only;
DROP TRIGGER IF EXISTS intake_auditevent_no_truncate ON intake_auditevent;
"""


def guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD, params=None)


def unguard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNGUARD, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0008_webhook_subscription_pause"),
    ]

    operations = [
        migrations.RunPython(guard, unguard),
    ]
