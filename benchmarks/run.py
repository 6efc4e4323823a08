"""`make bench`: load-test the service as deployed and write the results to docs/performance.md.

    .venv/bin/python benchmarks/run.py [--duration 30] [--keep-db] [--no-write-docs]

What it does, in order (docs/performance.md explains the method and the numbers):

1. describes the machine; recreates the databases `clinic_bench` and `clinic_bench_baseline` on
   the PostgreSQL at 127.0.0.1:5432 and migrates them; seeds 5,000 patients, 100,000 intakes to
   re-stratify and 100,000 referral flags (benchmarks/bench_data.py);
2. counts queries per request and profiles both endpoints in-process (benchmarks/queries.py);
3. starts, on 127.0.0.1 only: the service under gunicorn (2 workers, the Dockerfile's flags,
   DEBUG=false), the baseline project under the same gunicorn flags, one Celery worker (Redis
   database 13) and a webhook receiver;
4. wrk, after a warm-up, at 16 then 64 connections: the baseline's one-row insert,
   POST /api/v1/intakes/, GET /api/v1/flags/?status=open;
5. intake → webhook latency at half the best intake throughput (benchmarks/paced.py);
6. `manage.py restratify` over the 100,000 seeded intakes, on the Celery worker;
7. peak RSS (VmHWM) of every web and worker process; results to benchmarks/.runs/<time>/ and
   the results section of docs/performance.md.

Every process it starts is stopped in a `finally` (also on Ctrl-C or SIGTERM), every wait has a
deadline, and the databases are dropped at the end unless --keep-db.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
PG = "postgres://postgres@127.0.0.1:5432"
DB, BASELINE_DB = "clinic_bench", "clinic_bench_baseline"
REDIS_URL = "redis://127.0.0.1:6379/13"  # a database of its own: the run flushes it
WEB_PORT, BASELINE_PORT, RECEIVER_PORT = 18080, 18081, 18082
GUNICORN_FLAGS = ["--workers", "2", "--timeout", "30"]  # as the Dockerfile's CMD
DOCS = ROOT / "docs" / "performance.md"
START, END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"


SESSIONS: dict[int, str] = {}  # session id → name of the processes started here (CPU accounting)


class BenchError(Exception):
    pass


# --- processes -----------------------------------------------------------------------------------


class Processes:
    """Everything started here, each in its own session so the whole group can be stopped."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.started: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str], cwd: Path = ROOT) -> int:
        log = (self.run_dir / f"{name}.log").open("wb")
        process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.started[name] = process
        SESSIONS[process.pid] = name
        return process.pid

    def pid(self, name: str) -> int:
        return self.started[name].pid

    def check_alive(self) -> None:
        for name, process in self.started.items():
            if process.poll() is not None:
                raise BenchError(f"{name} exited with {process.returncode}: see {self.run_dir}/{name}.log")

    def stop_all(self) -> None:
        for process in self.started.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.started.values():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def run(argv: list[str], env: dict[str, str], *, timeout: float, cwd: Path = ROOT) -> str:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(argv[:4])} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def wait_http(url: str, *, timeout: float, method: str = "GET", body: bytes | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(url, data=body, method=method)
            request.add_header("Content-Type", "application/json")
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status < 500:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise BenchError(f"{url} did not answer within {timeout:.0f} s")


def children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        match = re.search(r"^PPid:\s+(\d+)", text, re.M)
        if match and int(match.group(1)) == pid:
            found.append(int(status.parent.name))
    return found


TICKS = os.sysconf("SC_CLK_TCK")


def busy_ticks() -> int:
    """CPU time spent by the whole machine (all CPUs, not idle or waiting for I/O)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return user + nice + system + irq + softirq + steal


def our_ticks(sessions: dict[int, str]) -> dict[str, int]:
    """CPU time (ticks) of the processes this run started, by their session's name, and of the
    PostgreSQL backends of the bench databases ("postgres")."""
    totals: dict[str, int] = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            stat = (proc / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            group = sessions.get(int(fields[3]))
            if group is None and "postgres" in stat[: stat.rindex(")")]:
                group = "postgres" if b"clinic_bench" in (proc / "cmdline").read_bytes() else None
            if group is not None:
                totals[group] = totals.get(group, 0) + int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            continue
    return totals


def memory_kib(pid: int) -> dict[str, int]:
    text = Path(f"/proc/{pid}/status").read_text()
    values = dict(re.findall(r"^(VmHWM|VmRSS):\s+(\d+) kB", text, re.M))
    return {key: int(value) for key, value in values.items()}


# --- environment ---------------------------------------------------------------------------------


def service_env(secret_key: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE"))}
    env.update(
        DEBUG="false",
        SECRET_KEY=secret_key,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        DATABASE_URL=f"{PG}/{DB}",
        REDIS_URL=REDIS_URL,
        WEBHOOK_ALLOWED_HOSTS="127.0.0.1",
        WEBHOOK_ALLOW_HTTP="true",
        DJANGO_SETTINGS_MODULE="clinic_service.settings",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = match.group(1) if match else cpu
    mem_kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]

    def version(argv: list[str]) -> str:
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "unknown"

    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": version(["psql", PG + "/postgres", "-tAc", "show server_version"]),
        "redis": redis_version(),
        "wrk": version(["wrk", "--version"]),
        "commit": version(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        "tree_dirty": bool(
            subprocess.run(
                ["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True
            ).stdout.strip()
        ),
    }


def redis_client() -> Any:
    import redis

    return redis.Redis.from_url(REDIS_URL, socket_timeout=5)


def redis_version() -> str:
    try:
        return str(redis_client().info("server")["redis_version"])
    except Exception:  # noqa: BLE001 - reported as unknown, checked properly later
        return "unknown"


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk not found: installing Debian's wrk package (apt-get install wrk)", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, timeout=300)
    if not shutil.which("wrk"):
        raise BenchError("wrk is required: `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`")


def recreate_databases() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as connection:
        for name in (DB, BASELINE_DB):
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')


def drop_databases() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as connection:
        for name in (DB, BASELINE_DB):
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_version() -> str:
    import psycopg

    with psycopg.connect(f"{PG}/postgres") as connection:
        row = connection.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "unknown"


# --- load ----------------------------------------------------------------------------------------


def wrk(
    run_dir: Path, name: str, url: str, *, connections: int, seconds: int, env: dict[str, str]
) -> dict[str, Any]:
    out = run_dir / f"wrk_{name}.json"
    wrk_env = {**os.environ, **env, "BENCH_OUT": str(out)}
    argv = [
        "wrk",
        "-t",
        "2",
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(HERE / "wrk" / "bench.lua"),
        url,
    ]
    sessions = {os.getsid(0): "runner", **SESSIONS}
    before = (busy_ticks(), our_ticks(sessions), resource.getrusage(resource.RUSAGE_CHILDREN))
    started = time.monotonic()
    completed = subprocess.run(argv, env=wrk_env, capture_output=True, text=True, timeout=seconds + 60)
    elapsed = time.monotonic() - started
    after = (busy_ticks(), our_ticks(sessions), resource.getrusage(resource.RUSAGE_CHILDREN))
    children_s = (after[2].ru_utime + after[2].ru_stime) - (before[2].ru_utime + before[2].ru_stime)
    busy_s = (after[0] - before[0]) / TICKS
    by_group = {
        group: (after[1].get(group, 0) - before[1].get(group, 0)) / TICKS
        for group in set(after[1]) | set(before[1])
    }
    ours_s = sum(by_group.values()) + children_s
    (run_dir / f"wrk_{name}.txt").write_text(completed.stdout + completed.stderr)
    if completed.returncode != 0 or not out.exists():
        raise BenchError(f"wrk {name} failed: {completed.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.read_text())
    seconds_run = result["duration_us"] / 1e6
    errors = sum(result["errors"].values())
    result.update(
        name=name,
        connections=connections,
        rps=round(result["requests"] / seconds_run, 1),
        error_count=errors,
        error_rate=round(errors / max(result["requests"], 1), 5),
        p50_ms=round(result["latency_us"]["p50"] / 1000, 1),
        p95_ms=round(result["latency_us"]["p95"] / 1000, 1),
        p99_ms=round(result["latency_us"]["p99"] / 1000, 1),
        # CPUs' worth of work done meanwhile by processes that are not this benchmark's (other
        # users of the machine): anything well above 0 makes the phase's numbers pessimistic.
        other_load_cpus=round(max(busy_s - ours_s, 0) / elapsed, 2),
        machine_busy_cpus=round(busy_s / elapsed, 2),
        # CPU time the server side (gunicorn, Celery worker, PostgreSQL backends) spent per request:
        # unlike req/s, hardly affected by other users of the machine.
        server_cpu_ms=round(
            (ours_s - children_s - by_group.get("runner", 0)) / max(result["requests"], 1) * 1000, 2
        ),
        wrk_cpu_ms=round(children_s / max(result["requests"], 1) * 1000, 3),
        cpu_ms_by_process={
            group: round(seconds / max(result["requests"], 1) * 1000, 2)
            for group, seconds in sorted(by_group.items())
            if seconds > 0
        },
    )
    result["capacity_rps"] = round((os.cpu_count() or 1) * 1000 / max(result["server_cpu_ms"], 0.01), 0)
    print(
        f"  {name:<22} c={connections:<3} {result['rps']:>8.1f} req/s  p50 {result['p50_ms']:.1f} ms  "
        f"p95 {result['p95_ms']:.1f} ms  p99 {result['p99_ms']:.1f} ms  errors {errors}  "
        f"other load {result['other_load_cpus']:.2f} CPUs  server CPU {result['server_cpu_ms']:.1f} ms/req "
        f"{result['cpu_ms_by_process']}",
        flush=True,
    )
    return result


def queue_length() -> int:
    return int(redis_client().llen("celery"))


def drain(env: dict[str, str], *, timeout: float) -> float:
    """Wait until the worker has nothing queued and every outbox event is dispatched."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if queue_length() == 0:
            counts = json.loads(run([PY, str(HERE / "bench_data.py"), "counts"], env, timeout=60))
            if counts["undispatched_events"] == 0 and counts["pending_deliveries"] == 0:
                return round(time.monotonic() - started, 1)
        time.sleep(1)
    return -1.0


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(round(pct / 100 * len(ordered) + 0.5) - 1, 0)
    return ordered[min(rank, len(ordered) - 1)]


def webhook_phase(
    run_dir: Path, env: dict[str, str], seed: dict[str, Any], *, rate: float, seconds: int
) -> dict[str, Any]:
    received_path = run_dir / "received.jsonl"
    run(
        [
            PY,
            str(HERE / "bench_data.py"),
            "subscribe",
            "--url",
            f"http://127.0.0.1:{RECEIVER_PORT}/hook",
            "--out",
            str(run_dir / "subscription.json"),
        ],
        env,
        timeout=60,
    )
    sent_path = run_dir / "paced.jsonl"
    sessions = {os.getsid(0): "runner", **SESSIONS}
    cpu_before, started = our_ticks(sessions), time.monotonic()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run(
        [
            PY,
            str(HERE / "paced.py"),
            "--url",
            f"http://127.0.0.1:{WEB_PORT}",
            "--rate",
            f"{rate:.1f}",
            "--seconds",
            str(seconds),
            "--tokens",
            ",".join(seed["tokens"]),
            "--patients",
            str(seed["patients"]),
            "--out",
            str(sent_path),
        ],
        env,
        timeout=seconds + 120,
    )
    sent = [json.loads(line) for line in sent_path.read_text().splitlines()]
    created = {r["intake_id"]: r for r in sent if r["status"] == 201}
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    drain(env, timeout=60)  # the worker's share includes the deliveries still queued
    cpu_after, elapsed = our_ticks(sessions), time.monotonic() - started
    paced_s = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    cpu_ms_per_intake = {
        group: round(
            (cpu_after.get(group, 0) - cpu_before.get(group, 0)) / TICKS / max(len(created), 1) * 1000, 2
        )
        for group in sorted(set(cpu_after) | set(cpu_before))
        if cpu_after.get(group, 0) - cpu_before.get(group, 0) > 0 and group != "runner"
    }
    cpu_ms_per_intake["load generator (paced.py)"] = round(paced_s / max(len(created), 1) * 1000, 2)
    deadline = time.monotonic() + 60
    received: dict[str, float] = {}
    while time.monotonic() < deadline:
        received = {}
        if received_path.exists():
            for line in received_path.read_text().splitlines():
                record = json.loads(line)
                if record["type"] == "intake.scored" and record["intake_id"] in created:
                    received.setdefault(record["intake_id"], record["t"])
        if len(received) >= len(created):
            break
        time.sleep(1)
    from_submit = [received[i] - created[i]["sent"] for i in received]
    from_response = [received[i] - created[i]["done"] for i in received]
    request_ms = [(r["done"] - r["sent"]) * 1000 for r in created.values()]
    lateness = [max(r["sent"] - r["due"], 0) for r in sent]
    result = {
        "target_rate": round(rate, 1),
        "seconds": seconds,
        "sent": len(sent),
        "created": len(created),
        "errors": len(sent) - len(created),
        "webhooks_received": len(received),
        "p50_ms": round(percentile(from_submit, 50) * 1000, 1),
        "p99_ms": round(percentile(from_submit, 99) * 1000, 1),
        "max_ms": round(max(from_submit, default=float("nan")) * 1000, 1),
        "after_response_p50_ms": round(percentile(from_response, 50) * 1000, 1),
        "after_response_p99_ms": round(percentile(from_response, 99) * 1000, 1),
        "request_p50_ms": round(percentile(request_ms, 50), 1),
        "request_p99_ms": round(percentile(request_ms, 99), 1),
        "max_send_lateness_ms": round(max(lateness, default=0) * 1000, 1),
        "cpu_ms_per_intake": cpu_ms_per_intake,
        "machine_busy_cpus": round(sum(cpu_ms_per_intake.values()) * len(created) / 1000 / elapsed, 2),
    }
    print(f"  webhook latency: {result}", flush=True)
    return result


def backfill(env: dict[str, str], run_dir: Path) -> dict[str, Any]:
    started = time.monotonic()
    out = run(
        [PY, "manage.py", "restratify", "--ruleset", "lbp-2026.1", "--timeout", "300"], env, timeout=420
    )
    seconds = time.monotonic() - started
    (run_dir / "restratify.txt").write_text(out)
    match = re.search(r"created (\d+), skipped (\d+), failed (\d+)", out)
    if not match:
        raise BenchError(f"restratify printed no summary:\n{out[-2000:]}")
    created, skipped, failed = (int(x) for x in match.groups())
    status = re.search(r"job \S+ (\w+): created", out)
    result = {
        "created": created,
        "skipped": skipped,
        "failed": failed,
        "status": status.group(1) if status else "?",
        "seconds": round(seconds, 1),
        "rate_per_s": round(created / seconds, 1),
    }
    print(f"  backfill: {result}", flush=True)
    return result


# --- report --------------------------------------------------------------------------------------

TARGETS = {
    "intake_ratio": 0.5,
    "intake_p99_ms_c16": 50,
    "flags_p95_ms": 30,
    "webhook_p99_ms": 1000,
    "backfill_rate": 2000,
    "worker_rss_mib": 200,
}


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"Run {m['date']}, commit `{m['commit']}`{' (uncommitted changes)' if m['tree_dirty'] else ''}, "
        f"{results['duration']} s per phase after a {results['warmup']} s warm-up.",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']} GiB RAM, Linux {m['kernel']}, "
        f"Python {m['python']}, PostgreSQL {m['postgresql']}, Redis {m['redis']}, {m['wrk']}. "
        "Load generator, web, worker and database share the machine.",
        "",
        "| endpoint | clients | req/s | p50 ms | p95 ms | p99 ms | errors | queries/req | "
        "server CPU ms/req | CPU-bound req/s | other load (CPUs) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    queries = results["queries"]
    names = {
        "baseline": ("baseline `POST /readings/` (bare Django + DRF, one row)", queries["baseline_post"]),
        "intake": ("`POST /api/v1/intakes/` (lbp-initial)", queries["intake_post"]),
        "flags": ("`GET /api/v1/flags/?status=open` (100,000 flags)", queries["flags_open"]),
    }
    for key, (label, q) in names.items():
        for phase in results["load"][key]:
            lines.append(
                f"| {label} | {phase['connections']} | {phase['rps']:.1f} | {phase['p50_ms']:.1f} | "
                f"{phase['p95_ms']:.1f} | {phase['p99_ms']:.1f} | {phase['error_count']} | {q['count']} | "
                f"{phase['server_cpu_ms']:.1f} | {phase['capacity_rps']:.0f} | "
                f"{phase['other_load_cpus']:.2f} |"
            )
    lines += ["", "Server CPU ms per request by process (16 clients):"]
    for key in ("baseline", "intake", "flags"):
        c16 = next(p for p in results["load"][key] if p["connections"] == 16)
        parts = ", ".join(
            f"{group} {ms:.1f}" for group, ms in c16["cpu_ms_by_process"].items() if group != "runner"
        )
        lines.append(f"- {key}: {parts}")
    ratios = results["ratios"]
    w = results["webhook"]
    b = results["backfill"]
    mem = results["memory"]
    lines += [
        "",
        "Intake throughput / baseline throughput, as measured: "
        + ", ".join(f"{c} clients **{r:.0%}**" for c, r in ratios.items())
        + "; by server CPU per request (baseline ms / intake ms, what the ratio would be with the "
        "machine to ourselves): "
        + ", ".join(f"{c} clients **{r:.0%}**" for c, r in results["cpu_ratios"].items())
        + ".",
        "",
    ]
    if w:
        lines.append(
            f"Intake → webhook received (`intake.scored`), at {w['target_rate']} intakes/s "
            f"for {w['seconds']} s "
            f"(half the best intake throughput): p50 **{w['p50_ms']:.0f} ms**, p99 **{w['p99_ms']:.0f} ms**, "
            f"max {w['max_ms']:.0f} ms, measured from sending the POST; from its 201 response p50 "
            f"{w['after_response_p50_ms']:.0f} ms, p99 {w['after_response_p99_ms']:.0f} ms. "
            f"{w['webhooks_received']}/{w['created']} received, {w['errors']} request errors; "
            f"POST p50 {w['request_p50_ms']:.0f} ms, p99 {w['request_p99_ms']:.0f} ms at this rate."
        )
        if w.get("cpu_ms_per_intake"):
            shares = ", ".join(f"{group} {ms}" for group, ms in w["cpu_ms_per_intake"].items())
            lines.append(
                f"CPU ms per intake in this phase (web, worker, database, receiver, load generator): "
                f"{shares}; the machine was {w['machine_busy_cpus']} of 2 CPUs busy."
            )
    else:
        lines.append("Intake → webhook latency: not measured in this run.")
    lines += [
        "",
        f"Re-stratification backfill (`manage.py restratify`, batches on the Celery worker): "
        f"{b['created']:,} intakes in {b['seconds']} s = **{b['rate_per_s']:,.0f} intakes/s** "
        f"(job {b['status']}, skipped {b['skipped']}, failed {b['failed']}).",
        "",
        "Peak RSS (VmHWM, MiB): "
        + "; ".join(f"{name} {value:.0f}" for name, value in mem["per_process"].items())
        + f". Web total {mem['web_total_mib']:.0f}, worker total {mem['worker_total_mib']:.0f}.",
        "",
        "Worker backlog after each intake phase (seconds until every event was fanned out and "
        "delivered, -1 = not within the limit): "
        + ", ".join(f"{k}: {v}" for k, v in results["drain"].items())
        + ".",
        "",
        "| target | measured | |",
        "|---|---|---|",
    ]
    c16 = next(p for p in results["load"]["intake"] if p["connections"] == 16)
    flags_p95 = max(p["p95_ms"] for p in results["load"]["flags"])
    lines += [
        f"| intake throughput ≥ 50% of baseline (16 clients) | {ratios['16']:.0%} | "
        f"{verdict(ratios['16'] >= TARGETS['intake_ratio'])} |",
        f"| intake p99 < 50 ms at 16 clients | {c16['p99_ms']:.1f} ms | "
        f"{verdict(c16['p99_ms'] < TARGETS['intake_p99_ms_c16'])} |",
        f"| flags list p95 < 30 ms at 100,000 flags (worst of 16/64) | {flags_p95:.1f} ms | "
        f"{verdict(flags_p95 < TARGETS['flags_p95_ms'])} |",
    ]
    if w:
        lines.append(
            f"| intake → webhook p99 < 1 s | {w['p99_ms']:.0f} ms | "
            f"{verdict(w['p99_ms'] < TARGETS['webhook_p99_ms'] and w['webhooks_received'] == w['created'])} |"
        )
    lines += [
        f"| backfill ≥ 2,000 intakes/s | {b['rate_per_s']:,.0f}/s | "
        f"{verdict(b['rate_per_s'] >= TARGETS['backfill_rate'])} |",
        f"| worker RSS < 200 MB (largest worker process) | {mem['worker_max_mib']:.0f} MiB | "
        f"{verdict(mem['worker_max_mib'] < TARGETS['worker_rss_mib'])} |",
        "",
        f"Raw output: `benchmarks/.runs/{results['run_id']}/` (wrk JSON, profiles, logs).",
    ]
    return "\n".join(lines)


def write_docs(text: str) -> None:
    if not DOCS.exists():
        raise BenchError(f"{DOCS} is missing")
    current = DOCS.read_text()
    if START not in current or END not in current:
        raise BenchError(f"{DOCS} has no {START} … {END} section")
    before, rest = current.split(START, 1)
    _, after = rest.split(END, 1)
    DOCS.write_text(f"{before}{START}\n{text}\n{END}{after}")


# --- main ----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description="make bench: see docs/performance.md")
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", 30)))
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--flags", type=int, default=100_000)
    parser.add_argument("--backfill-intakes", type=int, default=100_000)
    parser.add_argument("--keep-db", action="store_true", help="Leave the bench databases for inspection.")
    parser.add_argument("--no-write-docs", action="store_true")
    args = parser.parse_args()
    if args.duration < 1 or args.duration > 300:
        raise SystemExit("--duration must be 1..300 seconds")

    run_id = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = HERE / ".runs" / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    processes = Processes(run_dir)
    env = service_env(secrets.token_urlsafe(40))

    def on_signal(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    began = time.monotonic()
    results: dict[str, Any] = {"run_id": run_id, "duration": args.duration, "warmup": args.warmup}
    try:
        ensure_wrk()
        for port in (WEB_PORT, BASELINE_PORT, RECEIVER_PORT):
            if not port_free(port):
                raise BenchError(f"127.0.0.1:{port} is in use: is another `make bench` running?")
        results["machine"] = machine()
        results["machine"]["postgresql"] = postgres_version()
        print(f"machine: {results['machine']}", flush=True)

        print("databases: recreate, migrate, seed", flush=True)
        redis_client().flushdb()
        recreate_databases()
        baseline_env = {
            **env,
            "BASELINE_DATABASE_URL": f"{PG}/{BASELINE_DB}",
            "DJANGO_SETTINGS_MODULE": "baseline_site.settings",
        }
        run([PY, "manage.py", "migrate", "--noinput", "-v0"], env, timeout=300)
        run(
            [PY, "manage.py", "migrate", "--noinput", "-v0"], baseline_env, timeout=120, cwd=HERE / "baseline"
        )
        seeded = run(
            [
                PY,
                str(HERE / "bench_data.py"),
                "seed",
                "--flags",
                str(args.flags),
                "--backfill-intakes",
                str(args.backfill_intakes),
                "--out",
                str(run_dir / "seed.json"),
            ],
            env,
            timeout=900,
        )
        seed = json.loads(seeded.strip().splitlines()[-1])
        print(f"  seeded in {seed['seconds']} s: {seed['flags_by_status']}", flush=True)
        template = run_dir / "intake_body.json"
        sys.path.insert(0, str(HERE))
        from bodies import BASELINE_BODY, intake_body_template

        template.write_text(intake_body_template())

        print("queries per request and profiles (in-process)", flush=True)
        queries_env = {**env, "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver"}
        run(
            [
                PY,
                str(HERE / "queries.py"),
                "product",
                "--seed",
                str(run_dir / "seed.json"),
                "--out",
                str(run_dir / "queries_product.json"),
                "--profile-dir",
                str(run_dir),
            ],
            queries_env,
            timeout=300,
        )
        run(
            [PY, str(HERE / "queries.py"), "baseline", "--out", str(run_dir / "queries_baseline.json")],
            baseline_env,
            timeout=120,
        )
        results["queries"] = {
            **json.loads((run_dir / "queries_product.json").read_text()),
            **json.loads((run_dir / "queries_baseline.json").read_text()),
        }

        print("starting gunicorn (service, baseline), celery worker, webhook receiver", flush=True)
        gunicorn = str(Path(PY).parent / "gunicorn")
        processes.start(
            "web",
            [
                gunicorn,
                "clinic_service.wsgi",
                "--bind",
                f"127.0.0.1:{WEB_PORT}",
                *GUNICORN_FLAGS,
                "--access-logfile",
                str(run_dir / "web_access.log"),
            ],
            env,
        )
        processes.start(
            "baseline",
            [
                gunicorn,
                "baseline_site.wsgi",
                "--bind",
                f"127.0.0.1:{BASELINE_PORT}",
                *GUNICORN_FLAGS,
                "--access-logfile",
                str(run_dir / "baseline_access.log"),
            ],
            baseline_env,
            cwd=HERE / "baseline",
        )
        processes.start(
            "worker",
            [
                str(Path(PY).parent / "celery"),
                "-A",
                "clinic_service",
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
                "--hostname",
                f"bench-{run_id}@%h",
            ],
            env,
        )
        processes.start(
            "receiver",
            [
                PY,
                str(HERE / "receiver.py"),
                "--port",
                str(RECEIVER_PORT),
                "--out",
                str(run_dir / "received.jsonl"),
                "--max-seconds",
                "1200",
            ],
            env,
        )
        wait_http(f"http://127.0.0.1:{WEB_PORT}/healthz", timeout=60)
        wait_http(
            f"http://127.0.0.1:{BASELINE_PORT}/readings/",
            timeout=60,
            method="POST",
            body=json.dumps(BASELINE_BODY).encode(),
        )
        wait_http(f"http://127.0.0.1:{RECEIVER_PORT}/", timeout=30)
        processes.check_alive()

        load: dict[str, list[dict[str, Any]]] = {"baseline": [], "intake": [], "flags": []}
        drained: dict[str, float] = {}
        phases = [
            (
                "baseline",
                f"http://127.0.0.1:{BASELINE_PORT}/readings/",
                {"BENCH_MODE": "baseline", "BENCH_BODY": json.dumps(BASELINE_BODY)},
            ),
            (
                "intake",
                f"http://127.0.0.1:{WEB_PORT}/api/v1/intakes/",
                {
                    "BENCH_MODE": "intake",
                    "BENCH_TOKENS": ",".join(seed["tokens"]),
                    "BENCH_TEMPLATE": str(template),
                    "BENCH_PATIENTS": str(seed["patients"]),
                },
            ),
            (
                "flags",
                f"http://127.0.0.1:{WEB_PORT}/api/v1/flags/?status=open",
                {"BENCH_MODE": "get", "BENCH_TOKENS": ",".join(seed["tokens"])},
            ),
        ]
        for key, url, wrk_env in phases:
            print(f"load: {key}", flush=True)
            wrk(
                run_dir,
                f"{key}_warmup",
                url,
                connections=16,
                seconds=args.warmup,
                env={**wrk_env, "BENCH_NONCE": f"{run_id}-w"},
            )
            for connections in (16, 64):
                if key == "intake":
                    drained[f"before {connections}"] = drain(env, timeout=120)
                load[key].append(
                    wrk(
                        run_dir,
                        f"{key}_c{connections}",
                        url,
                        connections=connections,
                        seconds=args.duration,
                        env={**wrk_env, "BENCH_NONCE": f"{run_id}-{connections}"},
                    )
                )
                processes.check_alive()
            if key == "intake":
                drained["after 64"] = drain(env, timeout=180)
        results["load"] = load
        results["drain"] = drained
        results["cpu_ratios"] = {
            str(b["connections"]): b["server_cpu_ms"] / max(i["server_cpu_ms"], 0.01)
            for b, i in zip(load["baseline"], load["intake"], strict=True)
        }
        results["ratios"] = {
            str(b["connections"]): i["rps"] / b["rps"]
            for b, i in zip(load["baseline"], load["intake"], strict=True)
        }

        print("intake → webhook latency at half the best intake rate", flush=True)
        best = max(p["rps"] for p in load["intake"])
        results["webhook"] = webhook_phase(run_dir, env, seed, rate=best / 2, seconds=args.duration)
        drain(env, timeout=120)

        print("re-stratification backfill", flush=True)
        results["backfill"] = backfill(env, run_dir)
        processes.check_alive()

        per_process: dict[str, float] = {}
        web_total = worker_total = worker_max = 0.0
        for name in ("web", "worker", "baseline"):
            master = processes.pid(name)
            for index, pid in enumerate([master, *sorted(children(master))]):
                label = f"{name} {'master' if index == 0 else f'child {index}'}"
                mib = memory_kib(pid).get("VmHWM", 0) / 1024
                per_process[label] = round(mib, 1)
                if name == "web":
                    web_total += mib
                elif name == "worker":
                    worker_total += mib
                    worker_max = max(worker_max, mib)
        results["memory"] = {
            "per_process": per_process,
            "web_total_mib": round(web_total, 1),
            "worker_total_mib": round(worker_total, 1),
            "worker_max_mib": round(worker_max, 1),
        }
        results["elapsed_s"] = round(time.monotonic() - began, 1)
        (run_dir / "results.json").write_text(json.dumps(results, indent=2))
        text = markdown(results)
        (run_dir / "results.md").write_text(text)
        print("\n" + text + "\n", flush=True)
        if not args.no_write_docs:
            write_docs(text)
            print(f"results written to {DOCS.relative_to(ROOT)}", flush=True)
        print(f"done in {results['elapsed_s']:.0f} s", flush=True)
        return 0
    except (BenchError, subprocess.TimeoutExpired, KeyboardInterrupt) as exc:
        print(f"bench failed: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        processes.stop_all()
        with contextlib.suppress(Exception):
            redis_client().flushdb()
        if not args.keep_db:
            with contextlib.suppress(Exception):
                drop_databases()


if __name__ == "__main__":
    sys.exit(main())
