"""ScoreResults as the instrument scorer would produce them (docs/clinical-reference.md §21), so the
stratification tests do not depend on the scorer."""

from __future__ import annotations

from typing import Any

from intake.instruments.result import ScoreResult
from intake.stratification import Stratification, stratify

STARTBACK_EXAMPLES = {
    # band: (total, psychosocial) consistent with the Keele scoring rules (section 1)
    "low": (2, 1),
    "medium": (5, 3),
    "high": (7, 4),
}


def startback(band: str) -> ScoreResult:
    total, psychosocial = STARTBACK_EXAMPLES[band]
    return ScoreResult(
        instrument="startback",
        version="1",
        total=total,
        subscales={"psychosocial": psychosocial},
        band=band,
    )


def startback_unscorable() -> ScoreResult:
    return ScoreResult(
        instrument="startback",
        version="1",
        total=None,
        subscales={"psychosocial": None},
        missing=["q3"],
        scorable=False,
    )


def total_score(
    instrument: str, total: int, *, prorated: bool = False, flags: list[str] | None = None
) -> ScoreResult:
    return ScoreResult(
        instrument=instrument,
        version="1",
        total=total,
        flags=list(flags or []),
        prorated=prorated,
    )


def phq9(total: int, *, q9: int | None, prorated: bool = False) -> tuple[ScoreResult, dict[str, Any]]:
    """A PHQ-9 score and the raw answers it came from (only q9 matters to the rules)."""
    flags = []
    if q9 is None:
        flags.append("item9_unanswered")
    elif q9 >= 1:
        flags.append("suicidal_ideation")
    result = total_score("phq9", total, prorated=prorated, flags=flags)
    answers: dict[str, Any] = {f"q{item}": 0 for item in range(1, 10)}
    answers["q9"] = q9
    return result, answers


def red_flags(*categories: str) -> ScoreResult:
    return ScoreResult(
        instrument="red_flags",
        version="1",
        total=len(categories),
        flags=list(categories),
    )


def run(
    *,
    scores: dict[str, ScoreResult] | None = None,
    answers: dict[str, dict[str, Any]] | None = None,
    pain_duration_weeks: int | None = None,
    medications: tuple[str, ...] | list[str] = (),
) -> Stratification:
    return stratify(
        scores=scores or {},
        answers=answers or {},
        pain_duration_weeks=pain_duration_weeks,
        medications=medications,
    )


def flag_kinds(result: Stratification) -> list[str]:
    return [flag.kind for flag in result.flags]


def flag(result: Stratification, kind: str) -> Any:
    matches = [item for item in result.flags if item.kind == kind]
    assert len(matches) == 1, f"expected one {kind} flag, got {flag_kinds(result)}"
    return matches[0]


def fired_rules(result: Stratification) -> list[str]:
    return [reason.rule for reason in result.reasons]
