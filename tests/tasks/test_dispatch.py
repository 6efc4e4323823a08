"""One dispatch path: tasks are published by name from intake.dispatch, and every name resolves."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

from clinic_service.celery import app
from intake import dispatch

INTAKE = Path(__file__).resolve().parents[2] / "intake"


def test_every_dispatch_name_is_a_registered_task_and_every_task_has_a_name_there() -> None:
    registered = {name for name in app.tasks if name.startswith("intake.")}
    assert registered == set(dispatch.TASK_NAMES)


def test_every_beat_entry_names_a_registered_task() -> None:
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in dispatch.TASK_NAMES


def test_only_the_dispatch_module_publishes_and_no_service_imports_tasks() -> None:
    # given every module of the app but the two whose job it is
    offenders = []
    for path in INTAKE.rglob("*.py"):
        relative = path.relative_to(INTAKE).as_posix()
        if relative in ("dispatch.py", "tasks.py") or relative.startswith("migrations/"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            # then none calls apply_async / delay / send_task, or imports intake.tasks
            if isinstance(node, ast.Attribute) and node.attr in ("apply_async", "delay", "send_task"):
                offenders.append(f"{relative}:{node.lineno} {node.attr}")
            if (
                relative != "apps.py"  # registers the tasks at start-up in every process
                and isinstance(node, ast.ImportFrom)
                and node.module in ("intake.tasks", "intake")
                and (node.module == "intake.tasks" or any(alias.name == "tasks" for alias in node.names))
            ):
                offenders.append(f"{relative}:{node.lineno} imports intake.tasks")
    assert offenders == []
