"""Circuit breakers and deadlines for calls to Redis and PostgreSQL (intake.availability)."""

from __future__ import annotations

import threading
import time

import pytest

from intake.availability import DeadlineExceeded, Lane, address_of


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("redis://127.0.0.1:6379/4", "127.0.0.1:6379"),
        ("redis://:s3cret@cache.internal:6380/0", "cache.internal:6380"),
        ("rediss://user:s3cret@cache.internal/2", "cache.internal:6379"),
        ("redis+socket:///run/redis.sock", "/run/redis.sock"),
    ],
)
def test_one_breaker_per_server_named_without_credentials(url, address):
    assert address_of(url) == address


def test_a_call_past_its_deadline_is_abandoned_and_a_single_flight_lane_refuses_the_next():
    # given
    lane = Lane("test-lane", threads=1, single_flight=True)
    release = threading.Event()
    try:
        # when
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            lane.call(release.wait, seconds=0.2)
        waited = time.monotonic() - started
        # then: the caller got control back at the deadline, and a second call is refused at once
        assert waited < 1.0
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            lane.call(lambda: "never", seconds=5)
        assert time.monotonic() - started < 0.2
    finally:
        release.set()
    # ... and once the hung call has ended, the lane serves again
    deadline = time.monotonic() + 5
    while lane.busy and time.monotonic() < deadline:
        time.sleep(0.01)
    assert lane.call(lambda: "answered", seconds=5) == "answered"
