"""Test doubles with real sockets: a webhook receiver, a private redis-server, a Celery worker."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.builders import STARTBACK_MEDIUM, initial_intake

ROOT = Path(__file__).resolve().parents[2]
MRN = {"system": "urn:test:mrn", "value": "MRN-DELIVERY"}
# STarT Back medium: one routine flag (physiotherapy); fever: one urgent flag.
ROUTINE_FLAG_ANSWERS = {"startback": STARTBACK_MEDIUM}
URGENT_FLAG_ANSWERS = {"red_flags": {"fever": True}}


def intake_body(**answers: Any) -> dict[str, Any]:
    return initial_intake({"identifier": MRN}, responses=answers)


ALL_EVENTS = ["intake.scored", "flag.created", "flag.updated"]


def subscribe(
    api: Any, url: str, *, event_types: list[str] | None = None, format: str = "json"
) -> dict[str, Any]:
    response = api.post(
        "/api/v1/webhooks/",
        {"url": url, "event_types": event_types or ALL_EVENTS, "format": format},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def submit(api: Any, **answers: Any) -> dict[str, Any]:
    """POST an intake; in eager tests the outbox is dispatched and delivered before this returns."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api.post("/api/v1/intakes/", intake_body(**answers), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def wait_for(condition: Callable[[], Any], *, timeout: float, message: str, interval: float = 0.05) -> Any:
    """Poll until `condition()` is truthy; fail after `timeout` seconds (tests never sleep blind)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s: {message}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Receiver:
    """A webhook receiver on 127.0.0.1: records every request; `plan` scripts its answers."""

    def __init__(
        self,
        *,
        delay: float = 0.0,
        plan: list[int] | None = None,
        default_status: int = 200,
        keep_alive: bool = False,
        drop_idle: bool = False,
    ) -> None:
        self.requests: list[dict[str, Any]] = []
        self.delay = delay
        self.plan = list(plan or [])
        self.default_status = default_status
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.1 keeps the connection open for the next request; 1.0 closes after each.
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.delay:
                    time.sleep(receiver.delay)  # the receiver's own work, not a test wait
                with receiver.lock:
                    status = receiver.plan.pop(0) if receiver.plan else receiver.default_status
                    receiver.requests.append(
                        {
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                            "status": status,
                            "at": time.monotonic(),
                            "peer": self.client_address,  # one per TCP connection
                        }
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if drop_idle:  # closes the connection it announced as kept open (as idle timeouts do)
                    self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def ids_delivered(self) -> Counter[str]:
        """webhook-id → how many 2xx deliveries carried it."""
        with self.lock:
            return Counter(r["headers"]["webhook-id"] for r in self.requests if 200 <= r["status"] < 300)

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(r["body"]) for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RedisServer:
    """A throw-away redis-server on a spare port, so a test may stop its broker (never the shared one)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, timeout=10, message="redis-server did not start")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@contextmanager
def private_redis(settings: Any) -> Iterator[RedisServer]:
    """A private Redis as this process's broker and cache, as one REDIS_URL serves both in
    production (and in the worker processes given its URL): stopping it takes both away, and a
    wake-up mark the web side sets is the one a worker clears."""
    server = RedisServer()
    server.start()
    try:
        with redis_at(settings, server.url):
            yield server
    finally:
        server.stop()


@contextmanager
def redis_at(settings: Any, url: str) -> Iterator[None]:
    """This process's broker and cache at `url`, configured as REDIS_URL=url would configure them
    (for the duration), with Celery publishing for real even where the suite runs it eagerly."""
    from clinic_service.celery import app
    from clinic_service.settings import redis_cache

    def point_broker_at(url: str) -> None:
        app.close()  # drop pooled connections to the previous broker
        # Celery keeps its producer pool (bound to the first broker used) across app.close():
        # without this, messages kept going to the shared broker and only the sweeper delivered.
        app.amqp._producer_pool = None
        app.conf.broker_url = url

    saved, saved_eager = app.conf.broker_url, app.conf.task_always_eager
    point_broker_at(url)
    app.conf.task_always_eager = False
    settings.CACHES = {"default": redis_cache(url)}  # as a worker given REDIS_URL=url configures it
    try:
        yield
    finally:
        app.conf.task_always_eager = saved_eager
        point_broker_at(saved)


class BlackHole:
    """A TCP listener on 127.0.0.1 that accepts connections and never answers: a frozen Redis or
    PostgreSQL, a stalled network path. Worse than a stopped server, which refuses at once."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = int(self.listener.getsockname()[1])
        self.accepted: list[socket.socket] = []
        self._closed = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def url(self, scheme: str, path: str = "") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return  # closed
            self.accepted.append(connection)  # kept open, never read, never answered

    def close(self) -> None:
        self._closed.set()
        self.listener.close()
        for connection in self.accepted:
            connection.close()


def database_url(settings_dict: dict[str, Any]) -> str:
    """DATABASE_URL of the test database this process uses (the worker must use the same one)."""
    user = settings_dict.get("USER") or "postgres"
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}" if password else user
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{settings_dict['NAME']}"


# Fast schedules for worker processes (the defaults are minutes and hours).
WORKER_ENV = {
    "WEBHOOK_RETRY_SCHEDULE": "0.2,0.2,0.2,0.2,0.2",
    "WEBHOOK_RETRY_JITTER": "0",
    "WEBHOOK_ALLOWED_HOSTS": "127.0.0.0/8",
    "WEBHOOK_ALLOW_HTTP": "true",
    "WEBHOOK_DELIVERY_LEASE_SECONDS": "3",
    "OUTBOX_REDISPATCH_AFTER_SECONDS": "3",
    "OUTBOX_SWEEP_INTERVAL_SECONDS": "1",
    "CONN_MAX_AGE": "0",
    "LOG_LEVEL": "WARNING",
}


class Worker:
    """`celery worker -B` (embedded beat, so the real sweeper runs) on the test database."""

    def __init__(
        self,
        *,
        broker_url: str,
        db_url: str,
        tmp_path: Path,
        concurrency: int = 2,
        env: dict[str, str] | None = None,
    ) -> None:
        self.broker_url, self.db_url, self.tmp_path, self.concurrency = (
            broker_url,
            db_url,
            tmp_path,
            concurrency,
        )
        self.env = WORKER_ENV if env is None else env  # {}: the settings' own defaults
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tmp_path / "worker.log"

    def start(self) -> None:
        env = {**os.environ, **self.env, "REDIS_URL": self.broker_url, "DATABASE_URL": self.db_url}
        env.pop("FAIL_ON_SKIP", None)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "clinic_service",
                    "worker",
                    "-B",
                    "-s",
                    str(self.tmp_path / "beat-schedule"),
                    "--pool=prefork",
                    f"--concurrency={self.concurrency}",
                    "--loglevel=WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: SIGKILL reaches the pool children too
            )

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes (a machine or OOM crash: no clean shutdown)."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            self.process = None

    def cpu_seconds(self) -> float:
        """CPU time used so far by the worker's processes (its session: pool, beat), from /proc."""
        if self.process is None:
            return 0.0
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = stat.read_text()
            except OSError:
                continue
            fields = text[text.rindex(")") + 2 :].split()
            if int(fields[3]) == self.process.pid:  # session id
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
