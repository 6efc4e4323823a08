"""Chronicity: >= 12 weeks is persistent, reported only (docs/clinical-reference.md §23)."""

from __future__ import annotations

import pytest

from intake.stratification import InvalidStratificationInput

from .score_builders import phq9, red_flags, run, startback, total_score


def test_pain_for_eleven_weeks_is_not_persistent() -> None:
    assert run(pain_duration_weeks=11).persistent is False


def test_pain_for_twelve_weeks_is_persistent() -> None:
    result = run(pain_duration_weeks=12)

    assert result.persistent is True
    (reason,) = result.reasons
    assert reason.rule == "chronicity.persistent"
    assert (reason.evidence[0].value, reason.evidence[0].threshold) == (12, ">= 12")


def test_unknown_pain_duration_is_reported_as_unknown() -> None:
    assert run().persistent is None


def test_chronicity_raises_no_flag() -> None:
    assert run(pain_duration_weeks=52).flags == ()


@pytest.mark.parametrize("weeks", [None, 0, 4, 11, 12, 104])
def test_chronicity_never_lowers_a_flag(weeks: int | None) -> None:
    score, answers = phq9(3, q9=2)
    scores = {
        "phq9": score,
        "startback": startback("medium"),
        "gad7": total_score("gad7", 11),
        "red_flags": red_flags("suspected_cauda_equina", "suspected_fracture"),
    }
    baseline = run(scores=scores, answers={"phq9": answers}, medications=["tramadol", "diazepam"])

    result = run(
        scores=scores,
        answers={"phq9": answers},
        pain_duration_weeks=weeks,
        medications=["tramadol", "diazepam"],
    )

    assert result.flags == baseline.flags


@pytest.mark.parametrize("bad", [-1, 12.5, "12", True])
def test_pain_duration_outside_contract_is_rejected(bad: object) -> None:
    with pytest.raises(InvalidStratificationInput):
        run(pain_duration_weeks=bad)  # type: ignore[arg-type]
