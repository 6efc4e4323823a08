"""A webhook receiver for the benchmark: records when each delivery arrived, answers 204.

    python benchmarks/receiver.py --port 18082 --out run/received.jsonl --max-seconds 900

Listens on 127.0.0.1 only and exits by itself after --max-seconds. One JSON line per delivery:
receive time (time.time()), `webhook-id` (the event id), event type and intake id (if any).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MAX_BODY = 1_048_576


def make_handler(out: Any, lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            received = time.time()
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            raw = self.rfile.read(length)
            try:
                document = json.loads(raw)
            except ValueError:
                document = {}
            data = document.get("data") or {}
            line = json.dumps(
                {
                    "t": received,
                    "id": self.headers.get("webhook-id"),
                    "type": document.get("type"),
                    "intake_id": data.get("intake_id"),
                }
            )
            with lock:
                out.write(line + "\n")
                out.flush()
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--max-seconds", type=float, default=900)
    args = parser.parse_args()
    with args.out.open("a") as out:
        server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(out, threading.Lock()))
        server.daemon_threads = True
        timer = threading.Timer(args.max_seconds, server.shutdown)
        timer.daemon = True
        timer.start()
        server.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()
