"""The README's examples are one script, run here against a fresh `make run`, so they cannot drift.

A new user runs `make run`, pastes the `export CLIENT_ID=… CLIENT_SECRET=…` line it prints, then
the README's `sh` blocks that call the API, in order. This test does exactly that: `make run` on
a fresh SQLite file with no broker (the embedded default), then one bash script made of the
example `make run` printed and every such README block, where any request answered with an error
status fails the run (curl --fail-with-body). A block the walkthrough cannot run is marked with an
HTML comment `<!-- not run: why -->` just above it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCUMENTED_SERVER = "http://127.0.0.1:8000"
DOCUMENTED_RECEIVER_PORT = "9000"
NOT_RUN = re.compile(r"^<!-- not run: (?P<why>.+\S) -->$")
SERVICE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "NOTIFICATION_BASE_URL", "WEBHOOK_ALLOW_HTTP")


@dataclass(frozen=True)
class Block:
    line: int  # where the block starts in the README (1-based)
    text: str
    not_run_because: str | None


def readme_blocks(text: str) -> list[Block]:
    """Every ```sh block that calls the API, with the not-run marker above it if any."""
    lines = text.splitlines()
    blocks, index = [], 0
    while index < len(lines):
        if lines[index].strip() == "```sh":
            end = lines.index("```", index + 1)
            body = "\n".join(lines[index + 1 : end])
            previous = next((line for line in reversed(lines[:index]) if line.strip()), "")
            marker = NOT_RUN.match(previous.strip())
            if "curl " in body:
                blocks.append(Block(index + 1, body, marker["why"] if marker else None))
            index = end
        index += 1
    return blocks


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_serving(url: str, *, deadline_s: float, process: subprocess.Popen[bytes]) -> None:
    until = time.monotonic() + deadline_s
    while time.monotonic() < until:
        if process.poll() is not None:
            raise AssertionError(f"make run exited with {process.returncode} before serving")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise AssertionError(f"make run did not serve {url} within {deadline_s} s")


@dataclass(frozen=True)
class Demo:
    base: str
    printed: str
    environment: dict[str, str]


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[Demo]:
    """`make run` as a new user starts it: embedded SQLite, no broker, the demo seeded."""
    if shutil.which("make") is None or shutil.which("curl") is None:
        raise AssertionError("the README examples need make and curl on the PATH")
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    environment.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DEMO_CREDENTIALS_FILE=str(tmp_path / "demo-credentials.json"),
        PYTHONUNBUFFERED="1",
    )
    log = tmp_path / "make-run.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "run", "HOST=127.0.0.1", f"PORT={port}"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # runserver's autoreloader forks: stop the whole group
        )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/healthz", deadline_s=180, process=process)
        yield Demo(f"http://127.0.0.1:{port}", log.read_text(), environment)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def printed_example(printed: str) -> str:
    """The export line and the ready-to-paste example `make run` printed."""
    export = re.search(r"^\s*(export CLIENT_ID='[^']+' CLIENT_SECRET='[^']+')$", printed, re.MULTILINE)
    assert export, printed
    example = printed.split("(paste into a shell):\n", 1)[1].strip("\n").split("\n\n", 1)[0]
    return f"{export[1]}\n{example}"


def walkthrough(demo: Demo, receiver_port: int) -> str:
    parts = [
        "set -euo pipefail",
        # a request answered with an error status fails the walkthrough, naming its block
        'curl() { command curl --fail-with-body --show-error "$@"; }',
        "echo '### the example make run printed' >&2",
        printed_example(demo.printed),
    ]
    for block in readme_blocks(README.read_text(encoding="utf-8")):
        if block.not_run_because:
            continue
        text = (
            block.text.replace(DOCUMENTED_SERVER, demo.base)
            .replace(f"127.0.0.1:{DOCUMENTED_RECEIVER_PORT}", f"127.0.0.1:{receiver_port}")
            .replace(f"--port {DOCUMENTED_RECEIVER_PORT}", f"--port {receiver_port}")
            .replace(".venv/bin/python manage.py", f"{sys.executable} {ROOT / 'manage.py'}")
        )
        parts += [f"echo '### README.md line {block.line}' >&2", text]
    return "\n".join(parts) + "\n"


def test_readme_examples_run_in_order_against_make_run(make_run: Demo, tmp_path: Path) -> None:
    # given the README's examples as one script
    script = tmp_path / "walkthrough.sh"
    script.write_text(walkthrough(make_run, free_port()), encoding="utf-8")

    # when a new user runs them in a fresh directory (output to files: the background receiver
    # keeps its copies of them open until it is stopped)
    stdout_file, stderr_file = tmp_path / "walkthrough.out", tmp_path / "walkthrough.err"
    with stdout_file.open("wb") as out, stderr_file.open("wb") as err:
        walk = subprocess.Popen(
            ["bash", str(script)],
            cwd=tmp_path,
            env=make_run.environment,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    try:
        walk.wait(timeout=240)
    finally:
        with contextlib.suppress(ProcessLookupError):  # the receiver, if it still runs
            os.killpg(walk.pid, signal.SIGTERM)
        walk.wait()
    stdout, stderr = stdout_file.read_text(), stderr_file.read_text()

    # then every request succeeded, and the local receiver got a signed flag event
    assert walk.returncode == 0, f"{stderr[-3000:]}\n--- stdout ---\n{stdout[-3000:]}"
    assert re.search(r"\S+ flag\.created signature ok", stdout), stdout[-3000:]


def test_every_example_that_is_not_run_says_why() -> None:
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    assert len([block for block in blocks if not block.not_run_because]) >= 8
    skipped = [block for block in blocks if block.not_run_because]
    assert all(len(block.not_run_because or "") > 10 for block in skipped)


def test_readme_examples_name_patients_by_one_identifier_system() -> None:
    # registration, search and intake examples must agree, or following them in order finds nothing
    systems = set(re.findall(r'"system": "(urn:[^"]+)"', README.read_text(encoding="utf-8")))
    assert systems == {"urn:demo:mrn"}
