"""PHQ-9 item 9 safety flags (docs/clinical-reference.md §2 and §23)."""

from __future__ import annotations

import pytest

from intake.instruments.result import ScoreResult
from intake.stratification import InvalidStratificationInput

from .score_builders import flag, flag_kinds, phq9, run, startback, total_score


def test_phq9_item9_positive_raises_safety_flag_regardless_of_total() -> None:
    score, answers = phq9(1, q9=1)

    result = run(scores={"phq9": score}, answers={"phq9": answers})

    safety = flag(result, "mental_health_safety")
    assert safety.priority == "urgent"
    assert safety.rules == ("urgent.phq9_q9_ge_1",)
    assert not result.is_psychological_therapy_recommended


@pytest.mark.parametrize("q9", [2, 3])
def test_phq9_item9_two_or_more_raises_emergency_safety_flag(q9: int) -> None:
    score, answers = phq9(12, q9=q9)

    result = run(scores={"phq9": score}, answers={"phq9": answers})

    safety = flag(result, "mental_health_safety")
    assert safety.priority == "emergency"
    assert safety.rules == ("urgent.phq9_q9_ge_1", "urgent.phq9_q9_ge_2")
    assert {item.value for item in safety.evidence} == {q9}


def test_phq9_item9_zero_raises_no_safety_flag() -> None:
    score, answers = phq9(14, q9=0)

    result = run(scores={"phq9": score}, answers={"phq9": answers})

    assert result.urgent == ()


def test_phq9_item9_blank_raises_unanswered_flag_not_zero() -> None:
    score, answers = phq9(8, q9=None)

    result = run(scores={"phq9": score}, answers={"phq9": answers})

    unanswered = flag(result, "mental_health_safety_unanswered")
    assert unanswered.priority == "urgent"
    assert "mental_health_safety" not in flag_kinds(result)


def test_phq9_item9_key_absent_raises_unanswered_flag() -> None:
    score, answers = phq9(8, q9=None)
    del answers["q9"]

    result = run(scores={"phq9": score}, answers={"phq9": answers})

    assert result.urgent == ("mental_health_safety_unanswered",)


def test_phq9_not_administered_raises_no_safety_flag() -> None:
    result = run(scores={"startback": startback("medium"), "gad7": total_score("gad7", 12)})

    assert "mental_health_safety" not in flag_kinds(result)
    assert "mental_health_safety_unanswered" not in flag_kinds(result)


def test_phq9_scorer_flag_without_raw_answers_still_raises_urgent_safety_flag() -> None:
    score, _ = phq9(5, q9=3)

    result = run(scores={"phq9": score}, answers={})

    safety = flag(result, "mental_health_safety")
    assert safety.priority == "urgent"
    assert [item.item for item in safety.evidence] == ["suicidal_ideation"]
    assert "mental_health_safety_unanswered" not in flag_kinds(result)


def test_phq9_item9_from_answers_raises_flag_when_phq9_not_scorable() -> None:
    unscorable = ScoreResult(
        instrument="phq9", version="1", total=None, missing=["q1", "q2", "q3"], scorable=False
    )

    result = run(scores={"phq9": unscorable}, answers={"phq9": {"q9": 2}})

    assert flag(result, "mental_health_safety").priority == "emergency"


@pytest.mark.parametrize("bad", [4, -1, "2", True, 1.5])
def test_phq9_item9_outside_contract_is_rejected(bad: object) -> None:
    with pytest.raises(InvalidStratificationInput):
        run(answers={"phq9": {"q9": bad}})


def test_phq9_scorer_flag_wins_over_a_disagreeing_raw_answer() -> None:
    score, _ = phq9(6, q9=1)

    result = run(scores={"phq9": score}, answers={"phq9": {"q9": 0}})

    assert flag(result, "mental_health_safety").priority == "urgent"
