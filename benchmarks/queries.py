"""Queries per request and a cProfile of the benchmarked endpoints, in-process (no HTTP server).

    python benchmarks/queries.py product --seed run/seed.json --out run/queries_product.json \
        --profile-dir run/
    python benchmarks/queries.py baseline --out run/queries_baseline.json

Requests go through Django's full stack (middleware, DRF, serializers) with the test client;
each endpoint is warmed once, then one request is captured with CaptureQueriesContext (which
records queries even with DEBUG=false). The profile covers --profile-requests requests of each
endpoint and lists the functions that dominate (cumulative and own time).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _captured(run: Any) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        status = run()
    return {
        "status": status,
        "count": len(ctx.captured_queries),
        "sql": [q["sql"][:300] for q in ctx.captured_queries],
    }


def _profile(run: Any, n: int, path: Path) -> dict[str, Any]:
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(n):
        run()
    profiler.disable()
    elapsed = time.perf_counter() - started
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(30)
    path.write_text(stream.getvalue())
    return {"requests": n, "ms_per_request_profiled": round(elapsed / n * 1000, 2), "file": path.name}


def _timed(run: Any, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        run()
    return round((time.perf_counter() - started) / n * 1000, 2)


def product(args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(HERE.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic_service.settings")
    import django

    django.setup()
    from rest_framework.test import APIClient

    from benchmarks.bodies import identifier_value, intake_body

    seed = json.loads(args.seed.read_text())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {seed['token']}")
    counter = iter(range(10**9))

    def post_intake() -> int:
        body = intake_body(identifier_value(next(counter) % seed["patients"]))
        response = client.post(
            "/api/v1/intakes/", body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
        )
        assert response.status_code == 201, response.content[:500]
        return response.status_code

    def get_flags() -> int:
        response = client.get("/api/v1/flags/", {"status": "open"})
        assert response.status_code == 200, response.content[:500]
        return response.status_code

    results: dict[str, Any] = {}
    for name, run in (("intake_post", post_intake), ("flags_open", get_flags)):
        run()  # warm: imports, connection, caches
        results[name] = _captured(run)
        results[name]["ms_per_request_in_process"] = _timed(run, args.timed_requests)
        if args.profile_dir:
            results[name]["profile"] = _profile(
                run, args.profile_requests, args.profile_dir / f"profile_{name}.txt"
            )
    return results


def baseline(args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(HERE / "baseline"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "baseline_site.settings"
    import django

    django.setup()
    from bodies import BASELINE_BODY  # type: ignore[import-not-found]
    from rest_framework.test import APIClient

    client = APIClient()

    def post_row() -> int:
        response = client.post("/readings/", BASELINE_BODY, format="json")
        assert response.status_code == 201, response.content[:500]
        return response.status_code

    post_row()
    result = _captured(post_row)
    result["ms_per_request_in_process"] = _timed(post_row, args.timed_requests)
    return {"baseline_post": result}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("target", choices=("product", "baseline"))
    parser.add_argument("--seed", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--profile-dir", type=Path)
    parser.add_argument("--profile-requests", type=int, default=100)
    parser.add_argument("--timed-requests", type=int, default=50)
    args = parser.parse_args()
    results = product(args) if args.target == "product" else baseline(args)
    args.out.write_text(json.dumps(results, indent=2))
    print(json.dumps({k: v["count"] for k, v in results.items()}))


if __name__ == "__main__":
    main()
