"""Standard Webhooks signatures, and the receiver snippet printed in README.md."""

from __future__ import annotations

import base64
import inspect
import re
import time
from pathlib import Path

from intake.services import webhook_signature
from intake.services.webhook_signature import new_secret, sign, verify_webhook

DOC = Path(__file__).resolve().parents[2] / "README.md"


def _doc_snippet() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    return next(block for block in blocks if "def verify_webhook" in block)


def _headers(
    secret: str, body: bytes, *, msg_id: str = "evt-1", timestamp: int | None = None
) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body),
    }


def test_signature_matches_the_standard_webhooks_reference_vector():
    # The example of the Standard Webhooks specification (and the Svix libraries' tests).
    assert (
        sign(
            secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp=1614265330,
            body=b'{"test": 2432232314}',
        )
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_new_secrets_are_whsec_prefixed_base64_of_24_random_bytes():
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 24
    assert new_secret() != secret


def test_the_documented_snippet_is_the_tested_code():
    assert inspect.getsource(verify_webhook) in _doc_snippet()
    assert f"TOLERANCE_SECONDS = {webhook_signature.TOLERANCE_SECONDS // 60} * 60" in _doc_snippet()


def test_documented_snippet_verifies_a_signed_body():
    namespace: dict = {}
    exec(compile(_doc_snippet(), str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    secret, body = new_secret(), b'{"id":"evt-1","type":"flag.created"}'
    assert namespace["verify_webhook"](secret, _headers(secret, body), body) is True


def test_verification_fails_on_a_changed_body():
    secret, body = new_secret(), b'{"priority":"urgent"}'
    assert verify_webhook(secret, _headers(secret, body), b'{"priority":"routine"}') is False


def test_verification_fails_on_a_timestamp_older_than_five_minutes():
    secret, body = new_secret(), b"{}"
    old = int(time.time()) - 5 * 60 - 5
    assert verify_webhook(secret, _headers(secret, body, timestamp=old), body) is False
    recent = int(time.time()) - 4 * 60
    assert verify_webhook(secret, _headers(secret, body, timestamp=recent), body) is True


def test_verification_fails_on_a_timestamp_in_other_digits():
    secret, body = new_secret(), b"{}"
    for timestamp in ["²", "١٧" + str(int(time.time()))[2:], " 1", "-1", ""]:
        headers = {**_headers(secret, body), "webhook-timestamp": timestamp}
        assert verify_webhook(secret, headers, body) is False, timestamp


def test_verification_fails_with_another_secret_or_id():
    secret, body = new_secret(), b"{}"
    headers = _headers(secret, body)
    assert verify_webhook(new_secret(), headers, body) is False
    assert verify_webhook(secret, {**headers, "webhook-id": "evt-2"}, body) is False


def test_any_of_several_signatures_may_match_during_rotation():
    old, new, body = new_secret(), new_secret(), b"{}"
    headers = _headers(new, body)
    other = _headers(old, body, timestamp=int(headers["webhook-timestamp"]))["webhook-signature"]
    headers["webhook-signature"] = f"{other} {headers['webhook-signature']}"
    assert verify_webhook(new, headers, body) is True
