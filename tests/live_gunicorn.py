"""Serve the app from gunicorn, as deployed (gunicorn.conf.py), on a spare 127.0.0.1 port."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.delivery.support import free_port, wait_for

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "gunicorn.conf.py"


def _reachable(base: str) -> bool:
    try:
        urllib.request.urlopen(f"{base}/healthz", timeout=2)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str], *, workers: int | None = 1, log: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Yield (base URL, process) once /healthz answers; the process group is stopped on exit.

    `workers=None` keeps gunicorn.conf.py's number (as deployed); `log` collects its output.
    """
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--config", str(CONFIG), "--bind", f"127.0.0.1:{port}"]
    if workers is not None:
        command += ["--workers", str(workers)]
    command += ["--access-logfile", "/dev/null", "clinic_service.wsgi"]
    with contextlib.ExitStack() as files:
        output = files.enter_context(log.open("ab")) if log is not None else subprocess.DEVNULL
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: process.poll() is not None or _reachable(base), timeout=60, message="no gunicorn")
        assert process.poll() is None, "gunicorn exited at start"
        yield base, process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
