"""A local webhook receiver for trying deliveries out: prints each event and whether its signature
verifies. For development only (plain HTTP on 127.0.0.1); `make run` lets webhooks reach it."""

from __future__ import annotations

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from intake.services.webhook_signature import verify_webhook


class Command(BaseCommand):
    help = "Receive webhooks on 127.0.0.1:PORT, print each event and check its signature."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=9000)
        parser.add_argument(
            "--secret",
            default=os.environ.get("WEBHOOK_SECRET", ""),
            help="The subscription's whsec_… secret (default: $WEBHOOK_SECRET); without it, no check.",
        )
        parser.add_argument("--count", type=int, default=0, help="Stop after this many deliveries.")

    def handle(self, *args: Any, **options: Any) -> None:
        secret: str = options["secret"]
        write = self.stdout.write
        received = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                nonlocal received
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                if not secret:
                    verdict = "not checked (no --secret)"
                elif verify_webhook(secret, headers, body):
                    verdict = "ok"
                else:
                    verdict = "INVALID"
                try:
                    event = json.loads(body)
                    kind = event.get("type") or event.get("resourceType", "?")
                except ValueError:
                    kind = "?"
                self.send_response(204)
                self.end_headers()
                write(f"{headers.get('webhook-id', '?')} {kind} signature {verdict}")
                self.server.flush_output()  # type: ignore[attr-defined]
                received += 1

            def do_GET(self) -> None:
                """Answers 200, so a script can wait until the receiver listens."""
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """One line per delivery is printed above instead of the access log."""

        server = ThreadingHTTPServer(("127.0.0.1", options["port"]), Handler)
        server.flush_output = self.stdout.flush  # type: ignore[attr-defined]
        write(f"Receiving webhooks at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)")
        self.stdout.flush()
        try:
            while not options["count"] or received < options["count"]:
                server.handle_request()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
