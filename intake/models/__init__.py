"""The database: clinics (tenants), staff, integration clients, patients, intakes and flags."""

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

__all__ = [
    "ACTIVE_STATUSES",
    "PRIORITY_RANK",
    "AdministrativeGender",
    "Clinic",
    "FlagEvent",
    "FlagStatus",
    "IdempotencyRecord",
    "ImmutableRowError",
    "InstrumentScore",
    "Intake",
    "IntakeRevision",
    "IntakeSource",
    "IntegrationClient",
    "OutboxEvent",
    "Patient",
    "PatientIdentifier",
    "Priority",
    "ReferralFlag",
    "Role",
    "StaffMembership",
    "StratificationRecord",
]
