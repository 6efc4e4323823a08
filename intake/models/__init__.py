"""The database: clinics (tenants), staff, integration clients and patients."""

from .clinic import Clinic, IntegrationClient, Role, StaffMembership
from .patient import AdministrativeGender, Patient, PatientIdentifier

__all__ = [
    "AdministrativeGender",
    "Clinic",
    "IntegrationClient",
    "Patient",
    "PatientIdentifier",
    "Role",
    "StaffMembership",
]
