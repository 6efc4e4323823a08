"""What a stratification decides: each rule's decision with its evidence, the referral flags,
and the overall result the service stores and shows (docs/clinical-reference.md §23)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# Referral flag priorities, most pressing first (docs/clinical-reference.md §23: default due times
# emergency 1 hour, urgent 24 hours, routine 5 working days — set per clinic, not here).
EMERGENCY = "emergency"
URGENT = "urgent"
ROUTINE = "routine"
PRIORITIES = (EMERGENCY, URGENT, ROUTINE)

# Values evidence may carry: scores, raw answers, band codes, medicine names, durations.
EvidenceValue = int | Decimal | str | bool | None


@dataclass(frozen=True)
class Evidence:
    """One observation a rule relied on: which instrument, which item or score, its value,
    the threshold it was compared with, and the source of that threshold."""

    instrument: str
    item: str
    value: EvidenceValue
    threshold: str
    source: str = ""
    prorated: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument,
            "item": self.item,
            "value": _json_value(self.value),
            "threshold": self.threshold,
            "source": self.source,
            "prorated": self.prorated,
        }


@dataclass(frozen=True)
class FlagSpec:
    """The referral flag a rule raises when it fires."""

    kind: str
    priority: str

    def __post_init__(self) -> None:
        if self.priority not in PRIORITIES:
            raise ValueError(f"unknown flag priority {self.priority!r}")


@dataclass(frozen=True)
class Decision:
    """A rule that fired: its id, what it decided, the evidence, and any flag it raises."""

    rule: str
    topic: str
    decision: str
    evidence: tuple[Evidence, ...]
    flag: FlagSpec | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "decision": self.decision,
            "evidence": [item.as_dict() for item in self.evidence],
        }


@dataclass(frozen=True)
class FlagDecision:
    """One referral flag per kind, at the highest priority any of its rules asked for."""

    kind: str
    priority: str
    rules: tuple[str, ...]
    evidence: tuple[Evidence, ...]

    @property
    def is_urgent(self) -> bool:
        """Emergency and urgent flags are the urgent ones; routine flags are pathway referrals."""
        return self.priority != ROUTINE

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "priority": self.priority,
            "rules": list(self.rules),
            "evidence": [item.as_dict() for item in self.evidence],
        }


@dataclass(frozen=True)
class Stratification:
    """The recommendation for one intake under one ruleset, with the reason for every part."""

    ruleset: str
    medication_list_version: str
    back_care: str | None
    psychological_therapy_rules: tuple[str, ...]
    combined_care: bool
    pathway_on_hold: bool
    persistent: bool | None
    reasons: tuple[Decision, ...]
    flags: tuple[FlagDecision, ...]
    medications_classified: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    medications_unknown: tuple[str, ...] = ()

    @property
    def is_psychological_therapy_recommended(self) -> bool:
        return bool(self.psychological_therapy_rules)

    @property
    def urgent(self) -> tuple[str, ...]:
        """Kinds of the emergency and urgent flags raised, most pressing first."""
        return tuple(flag.kind for flag in self.flags if flag.is_urgent)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values (Decimals become two-decimal strings, as in ScoreResult)."""
        return {
            "ruleset": self.ruleset,
            "medication_list_version": self.medication_list_version,
            "back_care": self.back_care,
            "psychological_therapy": {
                "recommended": self.is_psychological_therapy_recommended,
                "rules": list(self.psychological_therapy_rules),
            },
            "combined_care": self.combined_care,
            "pathway_on_hold": self.pathway_on_hold,
            "persistent": self.persistent,
            "urgent": list(self.urgent),
            "reasons": [reason.as_dict() for reason in self.reasons],
            "flags": [flag.as_dict() for flag in self.flags],
            "medications": {
                "classified": {name: list(classes) for name, classes in self.medications_classified.items()},
                "unknown": list(self.medications_unknown),
            },
        }


def _json_value(value: EvidenceValue) -> int | str | bool | None:
    if isinstance(value, Decimal):
        # Half-up, never banker's rounding (docs/clinical-reference.md §19, trap 10).
        return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    return value
