"""What one intake submission or correction stored, as one in-memory record.

Services build it after a write; selectors rebuild it from the database for reads; the API, the
admin and the FHIR mapping render it. It lives outside both so that selectors never import
services (an import-linter contract in pyproject.toml).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from intake.models import InstrumentScore, Intake, IntakeRevision, ReferralFlag, StratificationRecord

__all__ = ["IntakeOutcome"]


@dataclass
class IntakeOutcome:
    """What one submission or correction stored (all in memory: rendering needs no queries)."""

    intake: Intake
    revision: IntakeRevision
    scores: list[InstrumentScore]
    stratification: StratificationRecord
    flags: list[ReferralFlag] = field(default_factory=list)
