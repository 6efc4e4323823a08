"""Standard Webhooks signatures (https://www.standardwebhooks.com/): how we sign a delivery and how
a receiver verifies one. `verify_webhook` is the exact snippet printed in the README (Delivery section) — it
uses only the standard library, so receivers can copy it as is."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format prefix, not a secret


def new_secret() -> str:
    """A fresh signing secret: `whsec_` + base64 of 24 random bytes (shown to the caller once)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


# --- receiver snippet: the README (Delivery) prints this verbatim (tests/delivery checks it) ---
TOLERANCE_SECONDS = 5 * 60


def verify_webhook(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """True when `body` was signed with `secret` less than five minutes ago.

    `headers` are the request headers with lower-case names; `body` is the raw request body
    (verify before parsing the JSON). Then deduplicate on headers["webhook-id"].
    """
    msg_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    if not (timestamp.isascii() and timestamp.isdigit()):  # isdigit() alone accepts "²"
        return False  # not a Unix time
    if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        return False  # stale or from the future: a replay
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    # The header may list several space-separated signatures (during secret rotation).
    for candidate in headers["webhook-signature"].split():
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False
