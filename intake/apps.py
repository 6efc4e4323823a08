from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = "Clinic intake"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The system checks register themselves on import; so do the Celery tasks, which every
        # process needs, web included: intake.dispatch publishes them by name from the app's
        # registry, and nothing else imports intake.tasks.
        from intake import checks, tasks  # noqa: F401

        # After every migrate (when Django has created permissions for new models), bring the
        # role groups up to date, so a fresh database never lacks a permission a role should hold.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="intake-roles-sync")


def _sync_roles(sender: AppConfig, **kwargs: Any) -> None:
    from intake.services.roles import roles_sync

    roles_sync()
