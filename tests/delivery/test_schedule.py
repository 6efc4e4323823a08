"""The retry schedule: bounded, jittered, under 24 hours."""

from __future__ import annotations

from intake.services.delivery import Outcome, retry_delay


def test_default_schedule_tries_nine_times_within_24_hours(settings):
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    assert len(schedule) + 1 == 9
    assert sum(schedule) < 24 * 3600
    assert schedule == sorted(schedule)


def test_jitter_only_shortens_a_delay(settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [100, 1000]
    settings.WEBHOOK_RETRY_JITTER = 0.2
    delays = [retry_delay(2) for _ in range(200)]
    assert all(800 <= d <= 1000 for d in delays)
    assert len(set(delays)) > 1


def test_no_retry_after_the_last_step(settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [1, 2]
    settings.WEBHOOK_RETRY_JITTER = 0
    assert [retry_delay(n) for n in (1, 2, 3)] == [1, 2, None]


def test_what_is_retried():
    assert Outcome(None, 5, "timeout").retryable
    assert Outcome(500, 5).retryable and Outcome(503, 5).retryable
    assert Outcome(429, 5).retryable and Outcome(408, 5).retryable
    assert not Outcome(400, 5).retryable and not Outcome(404, 5).retryable and not Outcome(410, 5).retryable
    assert not Outcome(302, 5).retryable
    assert Outcome(204, 5).delivered and not Outcome(302, 5).delivered
