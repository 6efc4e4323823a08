"""Staff role groups (reception, coordinator, clinician, clinic_admin) with their permissions.

Kept in sync afterwards by `manage.py setup_roles` (same code: intake.services.roles).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_role_groups(apps, schema_editor):
    from intake.services.roles import roles_sync

    # Permissions are normally created after the last migration (post_migrate); on a fresh
    # database they would not exist yet, so create them for every app now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    roles_sync(apps=apps)


def remove_role_groups(apps, schema_editor):
    from intake.services.roles import roles_remove

    roles_remove(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0003_webhooks_delivery"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, remove_role_groups)]
