"""Rebuilding a Stratification from its stored `as_dict()` form.

The stored dict omits each decision's topic and flag; both are fixed by the versioned ruleset
(a rule id names them), so they are read back from it, never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .decisions import Decision, Evidence, FlagDecision, Stratification
from .engine import get_ruleset


def stratification_from_dict(data: Mapping[str, Any]) -> Stratification:
    """The Stratification whose as_dict() is `data` (evidence values as stored)."""
    rules = {rule.id: rule for rule in get_ruleset(data["ruleset"]).rules}

    def evidence(items: list[Mapping[str, Any]]) -> tuple[Evidence, ...]:
        return tuple(
            Evidence(
                instrument=item["instrument"],
                item=item["item"],
                value=item["value"],
                threshold=item["threshold"],
                source=item.get("source", ""),
                prorated=item.get("prorated", False),
            )
            for item in items
        )

    reasons = tuple(
        Decision(
            rule=reason["rule"],
            topic=rules[reason["rule"]].topic,
            decision=reason["decision"],
            evidence=evidence(reason["evidence"]),
            flag=rules[reason["rule"]].flag,
        )
        for reason in data["reasons"]
    )
    flags = tuple(
        FlagDecision(
            kind=flag["kind"],
            priority=flag["priority"],
            rules=tuple(flag["rules"]),
            evidence=evidence(flag["evidence"]),
        )
        for flag in data["flags"]
    )
    medications = data.get("medications", {})
    return Stratification(
        ruleset=data["ruleset"],
        medication_list_version=data["medication_list_version"],
        back_care=data["back_care"],
        psychological_therapy_rules=tuple(data["psychological_therapy"]["rules"]),
        combined_care=data["combined_care"],
        pathway_on_hold=data["pathway_on_hold"],
        persistent=data["persistent"],
        reasons=reasons,
        flags=flags,
        medications_classified={name: tuple(c) for name, c in medications.get("classified", {}).items()},
        medications_unknown=tuple(medications.get("unknown", ())),
    )
