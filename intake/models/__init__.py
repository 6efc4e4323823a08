"""The database: clinics (tenants), staff, integration clients, patients, intakes and flags."""

from .audit import AppendOnlyError, AuditAction, AuditEvent, AuditOutcome
from .clinic import Clinic, IntegrationClient, Role, StaffMembership
from .flags import (
    ACTIVE_STATUSES,
    PRIORITY_RANK,
    FlagEvent,
    FlagStatus,
    IdempotencyRecord,
    Priority,
    ReferralFlag,
)
from .intake import (
    ImmutableRowError,
    InstrumentScore,
    Intake,
    IntakeRevision,
    IntakeSource,
    StratificationRecord,
)
from .outbox import OutboxEvent
from .patient import AdministrativeGender, Patient, PatientIdentifier
from .webhooks import (
    DeliveryStatus,
    FlagNotification,
    JobStatus,
    NotificationKind,
    RestratificationBatch,
    RestratificationJob,
    WebhookAttempt,
    WebhookDelivery,
    WebhookFormat,
    WebhookSubscription,
)

__all__ = [
    "ACTIVE_STATUSES",
    "PRIORITY_RANK",
    "AdministrativeGender",
    "AppendOnlyError",
    "AuditAction",
    "AuditEvent",
    "AuditOutcome",
    "Clinic",
    "DeliveryStatus",
    "FlagEvent",
    "FlagNotification",
    "FlagStatus",
    "IdempotencyRecord",
    "ImmutableRowError",
    "InstrumentScore",
    "Intake",
    "IntakeRevision",
    "IntakeSource",
    "IntegrationClient",
    "JobStatus",
    "NotificationKind",
    "OutboxEvent",
    "Patient",
    "PatientIdentifier",
    "Priority",
    "ReferralFlag",
    "RestratificationBatch",
    "RestratificationJob",
    "Role",
    "StaffMembership",
    "StratificationRecord",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookFormat",
    "WebhookSubscription",
]
