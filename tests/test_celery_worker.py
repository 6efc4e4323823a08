"""A real Celery worker process round-trip through Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from clinic_service.celery import app
from intake.tasks import ping

ROOT = Path(__file__).resolve().parents[1]


def test_reliability_settings_are_applied():
    conf = app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit


@pytest.mark.redis
@pytest.mark.timeout(120)
def test_ping_round_trips_through_a_real_worker():
    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "clinic_service",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            queue,
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env={**os.environ, "REDIS_URL": settings.REDIS_URL},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        result = ping.apply_async(queue=queue)
        deadline = time.monotonic() + 60
        while not result.ready():
            assert worker.poll() is None, worker.stdout.read().decode() if worker.stdout else "worker died"
            assert time.monotonic() < deadline, "worker did not answer within 60 s"
            time.sleep(0.1)
        assert result.get(timeout=1) == "pong"
    finally:
        worker.terminate()
        worker.wait(timeout=30)
