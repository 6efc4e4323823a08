"""The Celery application. Reliability settings live in settings.py under CELERY_*."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic_service.settings")

app = Celery("clinic_service")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _database_connections_as_in_requests(**kwargs: Any) -> None:
    """Treat each task like a request: reuse the database connection within CONN_MAX_AGE, drop it
    when broken or obsolete (CONN_HEALTH_CHECKS). Celery's own Django fixup would otherwise close
    it around every task (unless CELERY_DB_REUSE_MAX), a new connection per task."""
    if kwargs.get("task") is not None and getattr(kwargs["task"].request, "is_eager", False):
        return  # eager: inside the caller's request, whose connection is the caller's business
    from django.db import close_old_connections

    close_old_connections()
