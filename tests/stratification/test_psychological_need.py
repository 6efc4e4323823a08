"""Psychological need: PHQ-9 >= 10, GAD-7 >= 10, PCS >= 30, ISI >= 15 (docs/clinical-reference.md §23)."""

from __future__ import annotations

import pytest

from intake.instruments.result import ScoreResult

from .score_builders import flag, flag_kinds, phq9, run, total_score

THRESHOLDS = [
    ("phq9", 10, "psych.phq9_ge_10"),
    ("gad7", 10, "psych.gad7_ge_10"),
    ("pcs", 30, "psych.pcs_ge_30"),
    ("isi", 15, "psych.isi_ge_15"),
]


@pytest.mark.parametrize(("instrument", "threshold", "rule"), THRESHOLDS)
def test_total_at_threshold_recommends_psychological_therapy(
    instrument: str, threshold: int, rule: str
) -> None:
    result = run(scores={instrument: total_score(instrument, threshold)})

    assert result.is_psychological_therapy_recommended
    assert result.psychological_therapy_rules == (rule,)
    assert flag(result, "psychological_therapy").priority == "routine"


@pytest.mark.parametrize(("instrument", "threshold", "rule"), THRESHOLDS)
def test_total_just_below_threshold_does_not_recommend_psychological_therapy(
    instrument: str, threshold: int, rule: str
) -> None:
    result = run(scores={instrument: total_score(instrument, threshold - 1)})

    assert not result.is_psychological_therapy_recommended
    assert "psychological_therapy" not in flag_kinds(result)


def test_every_firing_psychological_rule_is_listed_on_one_flag() -> None:
    result = run(
        scores={
            "phq9": total_score("phq9", 12),
            "gad7": total_score("gad7", 9),
            "pcs": total_score("pcs", 31),
            "isi": total_score("isi", 15),
        },
        answers={"phq9": {"q9": 0}},
    )

    expected = ("psych.phq9_ge_10", "psych.pcs_ge_30", "psych.isi_ge_15")
    assert result.psychological_therapy_rules == expected
    assert flag(result, "psychological_therapy").rules == expected


def test_prorated_phq9_total_counts_and_evidence_records_prorated() -> None:
    score, answers = phq9(10, q9=0, prorated=True)

    result = run(scores={"phq9": score}, answers={"phq9": answers})

    assert result.psychological_therapy_rules == ("psych.phq9_ge_10",)
    (evidence,) = flag(result, "psychological_therapy").evidence
    assert (evidence.item, evidence.value, evidence.threshold) == ("total", 10, ">= 10")
    assert evidence.prorated is True


def test_unscorable_instrument_fires_no_psychological_rule() -> None:
    unscorable = ScoreResult(instrument="gad7", version="1", total=None, missing=["q1"], scorable=False)

    result = run(scores={"gad7": unscorable})

    assert not result.is_psychological_therapy_recommended
