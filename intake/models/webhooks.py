"""Outbound delivery: webhook subscriptions and their deliveries, coordinator notifications and
re-stratification jobs. The outbox (intake.models.outbox) is the source of truth; these rows
record what was done with each event."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from .clinic import Clinic
from .flags import ReferralFlag
from .outbox import OutboxEvent


class WebhookFormat(models.TextChoices):
    JSON = "json", "JSON event"
    FHIR = "fhir", "FHIR R4 Bundle"


class WebhookSubscription(models.Model):
    """A clinic's receiver of events. The secret signs every delivery (Standard Webhooks)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="webhook_subscriptions")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    # Stored as issued (`whsec_<base64>`): signing needs the key itself, so it cannot be hashed.
    secret = models.CharField(max_length=100)
    event_types = models.JSONField(help_text='Event types to receive, e.g. ["flag.created"].')
    format = models.CharField(max_length=10, choices=WebhookFormat.choices, default=WebhookFormat.JSON)
    is_active = models.BooleanField(default=True)
    # Set when a delivery fails in a way worth retrying: until then no run sends anything here
    # (the failed delivery's own next try), so a receiver that is down costs one request per try,
    # whatever its backlog. Cleared by changing the URL or activity, or by a 2xx to a redelivery.
    paused_until = models.DateTimeField(
        null=True, blank=True, help_text="Receiver failing: no delivery is sent before this time."
    )
    created_by = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(format__in=WebhookFormat.values), name="webhook_format_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.url} ({self.clinic_id})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending (will be tried at next_attempt_at)"
    DELIVERED = "delivered", "Delivered"
    DEAD = "dead", "Dead-lettered (gave up)"


class WebhookDelivery(models.Model):
    """One event for one subscription. Unique per pair, so fan-out may safely run twice.

    `next_attempt_at` is also the claim: a worker takes a due delivery by moving it into the
    future (one conditional UPDATE), so two workers never send the same attempt.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    # No index led by the event: one in event order over the whole table let the planner walk all
    # deliveries ever made to find one subscription's oldest pending one (every index here starts
    # with the subscription). An event's deliveries are found through its clinic's subscriptions.
    event = models.ForeignKey(
        OutboxEvent, on_delete=models.PROTECT, related_name="deliveries", db_index=False
    )
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    # Attempts made before the last manual redelivery: the retry schedule restarts after one.
    schedule_offset = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # When a message for it was last published: the sweeper re-sends only messages this old,
    # so a long queue is not flooded with copies.
    enqueued_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="webhook_delivery_one_per_event"),
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values), name="webhook_delivery_status_valid"
            ),
        ]
        indexes = [
            # A run takes its subscription's oldest pending deliveries (event order: `event` is the
            # seq) and the sweeper asks whether a subscription has an overdue one: both walk these
            # from the start, so neither reads a down receiver's backlog.
            models.Index(
                fields=["subscription", "event"],
                name="webhook_delivery_queue",
                condition=models.Q(status="pending"),
            ),
            models.Index(
                fields=["subscription", "next_attempt_at"],
                name="webhook_delivery_due",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["subscription", "-created_at"], name="webhook_delivery_log"),
            models.Index(fields=["subscription", "status"], name="webhook_delivery_backlog"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.subscription_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP attempt of a delivery: what the receiver answered and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number_unique"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.status_code or self.error}"


class NotificationKind(models.TextChoices):
    IMMEDIATE = "immediate", "Immediate email to coordinators (emergency/urgent)"
    DIGEST = "digest", "Daily digest to coordinators (routine)"
    ESCALATION = "escalation", "Overdue escalation to clinic admins"


class FlagNotification(models.Model):
    """That a flag was (or is to be) announced by email. One per (flag, kind): sent once."""

    flag = models.ForeignKey(ReferralFlag, on_delete=models.PROTECT, related_name="notifications")
    kind = models.CharField(max_length=15, choices=NotificationKind.choices)
    recipients = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["flag", "kind"], name="flag_notification_once"),
        ]
        indexes = [
            models.Index(fields=["created_at"], name="notification_unsent", condition=models.Q(sent_at=None)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.flag_id}"


class JobStatus(models.TextChoices):
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"


class RestratificationJob(models.Model):
    """A backfill: current revisions re-stratified with `ruleset` (new records, never edits)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    ruleset = models.CharField(max_length=30)
    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, null=True, blank=True, related_name="restratification_jobs"
    )
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.RUNNING)
    batch_size = models.PositiveIntegerField()
    total = models.PositiveIntegerField(default=0, help_text="Revisions without a record when it started.")
    batches_total = models.PositiveIntegerField(default=0)
    batches_done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="Already had a record (another run).")
    failed = models.PositiveIntegerField(default=0, help_text="Could not be scored; ids in the log.")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.ruleset} ({self.status}, {self.created}/{self.total})"


class RestratificationBatch(models.Model):
    """One chunk of a job: revision ids in [first_revision_id, last_revision_id]. Counted once."""

    job = models.ForeignKey(RestratificationJob, on_delete=models.CASCADE, related_name="batches")
    number = models.PositiveIntegerField()
    first_revision_id = models.BigIntegerField()
    last_revision_id = models.BigIntegerField()
    size = models.PositiveIntegerField(help_text="Revisions without a record when the job started.")
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="restratification_batch_unique"),
        ]

    def __str__(self) -> str:
        return f"batch {self.number} of {self.job_id}"
