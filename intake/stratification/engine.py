"""Run a versioned ruleset over one intake's scores, answers and medicines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from intake.instruments.result import ScoreResult

from .decisions import PRIORITIES, Decision, FlagDecision, Stratification
from .errors import UnknownRuleset
from .lbp_2026_1 import LBP_2026_1
from .medications import MEDICATION_LIST_VERSION
from .rules import (
    BACK_CARE,
    CHRONICITY,
    COMBINED_CARE,
    PSYCHOLOGICAL_THERAPY,
    IntakeFacts,
    Ruleset,
)

RULESETS: Mapping[str, Ruleset] = MappingProxyType({LBP_2026_1.id: LBP_2026_1})
CURRENT_RULESET = LBP_2026_1.id


def get_ruleset(ruleset_id: str) -> Ruleset:
    """The ruleset with this id; raises UnknownRuleset when there is none."""
    try:
        return RULESETS[ruleset_id]
    except KeyError:
        raise UnknownRuleset(
            f"unknown stratification ruleset {ruleset_id!r}; known: {sorted(RULESETS)}"
        ) from None


def stratify(
    *,
    ruleset: str = CURRENT_RULESET,
    scores: Mapping[str, ScoreResult],
    answers: Mapping[str, Mapping[str, Any]],
    pain_duration_weeks: int | None = None,
    medications: Sequence[str] = (),
) -> Stratification:
    """Apply `ruleset` to one intake. Deterministic: the same inputs give the same result.

    `scores` and `answers` are keyed by instrument code (docs/clinical-reference.md §21); `answers`
    holds the raw responses (PHQ-9 item 9 is read from them). Missing or unscorable
    instruments simply fire no rule, so urgent flags are raised whatever else is missing.
    """
    rules = get_ruleset(ruleset)
    facts = IntakeFacts.collect(
        scores=scores,
        answers=answers,
        pain_duration_weeks=pain_duration_weeks,
        medications=medications,
    )
    fired: list[Decision] = []
    for rule in rules.rules:
        decision = rule.evaluate(facts, fired)
        if decision is not None:
            fired.append(decision)

    back_care = [decision.decision for decision in fired if decision.topic == BACK_CARE]
    if len(back_care) > 1:
        raise ValueError(f"ruleset {rules.id}: more than one back-care rule fired")
    return Stratification(
        ruleset=rules.id,
        medication_list_version=MEDICATION_LIST_VERSION,
        back_care=back_care[0] if back_care else None,
        psychological_therapy_rules=tuple(
            decision.rule for decision in fired if decision.topic == PSYCHOLOGICAL_THERAPY
        ),
        combined_care=any(decision.topic == COMBINED_CARE for decision in fired),
        pathway_on_hold=any(rules.rule(decision.rule).puts_pathway_on_hold for decision in fired),
        # Unknown duration stays unknown rather than "not persistent".
        persistent=(
            None if pain_duration_weeks is None else any(decision.topic == CHRONICITY for decision in fired)
        ),
        reasons=tuple(fired),
        flags=_flags(fired),
        medications_classified={medicine.name: medicine.classes for medicine in facts.medicines},
        medications_unknown=facts.unknown_medicines,
    )


def _flags(fired: Sequence[Decision]) -> tuple[FlagDecision, ...]:
    """One flag per kind, at the most pressing priority any of its rules asked for; most
    pressing flags first, then in ruleset order."""
    by_kind: dict[str, list[Decision]] = {}
    for decision in fired:
        if decision.flag is not None:
            by_kind.setdefault(decision.flag.kind, []).append(decision)
    flags = [
        FlagDecision(
            kind=kind,
            priority=min(
                (decision.flag.priority for decision in decisions if decision.flag is not None),
                key=PRIORITIES.index,
            ),
            rules=tuple(decision.rule for decision in decisions),
            evidence=tuple(item for decision in decisions for item in decision.evidence),
        )
        for kind, decisions in by_kind.items()
    ]
    # dicts keep insertion order, so ties stay in ruleset order (sorted is stable).
    return tuple(sorted(flags, key=lambda flag: PRIORITIES.index(flag.priority)))
