"""An open-loop load generator: POST intakes at a fixed rate, recording each one's intake id.

    python benchmarks/paced.py --url http://127.0.0.1:18080 --rate 40 --seconds 30 \
        --tokens … --patients 5000 --out run/paced.jsonl

Request i is due at start + i/rate whatever happened to earlier ones (so a slow server does not
slow the arrivals down); up to --workers threads send them. Bounded by --seconds and by
--rate × --seconds requests. Only 127.0.0.1 is accepted as a target.
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from bodies import identifier_value, intake_body


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--tokens", required=True, help="Comma-separated bearer tokens, used in turn.")
    parser.add_argument("--patients", type=int, required=True)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    target = urlsplit(args.url)
    if target.hostname != "127.0.0.1":
        raise SystemExit("paced.py only talks to 127.0.0.1")
    total = int(args.rate * args.seconds)
    tokens = args.tokens.split(",")
    lock = threading.Lock()
    next_index = [0]
    records: list[dict[str, object]] = []
    start = time.monotonic() + 0.2
    wall_offset = time.time() - time.monotonic()

    def worker() -> None:
        while True:
            with lock:
                index = next_index[0]
                next_index[0] += 1
            if index >= total:
                return
            due = start + index / args.rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            body = json.dumps(intake_body(identifier_value((index * 7919) % args.patients))).encode()
            headers = {
                "Content-Type": "application/json",
                "Authorization": f"Bearer {tokens[index % len(tokens)]}",
                "Idempotency-Key": str(uuid.uuid4()),
            }
            sent = time.monotonic()
            status, intake_id = 0, None
            try:
                connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                connection.request("POST", "/api/v1/intakes/", body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                status = response.status
                if status == 201:
                    intake_id = json.loads(payload)["id"]
                connection.close()
            except (OSError, http.client.HTTPException, ValueError, KeyError):
                status = 0
            done = time.monotonic()
            with lock:
                records.append(
                    {
                        "due": due + wall_offset,
                        "sent": sent + wall_offset,
                        "done": done + wall_offset,
                        "status": status,
                        "intake_id": intake_id,
                    }
                )

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.workers)]
    for thread in threads:
        thread.start()
    deadline = start + args.seconds + 60
    for thread in threads:
        thread.join(timeout=max(deadline - time.monotonic(), 0.1))
    with args.out.open("w") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")
    print(json.dumps({"sent": len(records), "planned": total}))


if __name__ == "__main__":
    main()
