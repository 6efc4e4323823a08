"""Örebro short form: docs/clinical-reference.md §9 (items 3, 4, 8 reversed 10 − x; ≥50 high risk)."""

from __future__ import annotations

import pytest

from intake.instruments import InstrumentError, score

REVERSED = ("q3", "q4", "q8")


def lowest() -> dict[str, object]:
    """The lowest-scoring raw answers: q1 = 1, reversed items 10, the others 0 (total 1)."""
    answers: dict[str, object] = {f"q{number}": 0 for number in range(2, 11)}
    answers["q1"] = 1
    for item_id in REVERSED:
        answers[item_id] = 10
    return answers


def test_orebro_minimum_is_1():
    assert score("orebro_sf", lowest()).total == 1


def test_orebro_maximum_is_100():
    answers = {f"q{number}": 10 for number in range(1, 11)}
    for item_id in REVERSED:
        answers[item_id] = 0
    result = score("orebro_sf", answers)
    assert result.total == 100
    assert result.flags == ["high_risk"]


@pytest.mark.parametrize("item_id", REVERSED)
def test_orebro_reversed_items_score_10_minus_the_mark(item_id):
    answers = lowest()
    answers[item_id] = 0  # scored 10 − 0 = 10
    assert score("orebro_sf", answers).total == 11
    answers[item_id] = 3  # scored 7
    assert score("orebro_sf", answers).total == 8


def test_orebro_non_reversed_items_score_as_marked():
    answers = lowest()
    answers["q2"] = 3
    assert score("orebro_sf", answers).total == 4


@pytest.mark.parametrize(("q7", "total", "flagged"), [(9, 49, False), (10, 50, True)])
def test_orebro_high_risk_from_50(q7, total, flagged):
    answers = lowest() | {"q1": 10, "q2": 10, "q5": 10, "q6": 10, "q7": q7}
    result = score("orebro_sf", answers)
    assert result.total == total
    assert (result.flags == ["high_risk"]) is flagged
    assert result.band is None


def test_orebro_duration_category_starts_at_1():
    with pytest.raises(InstrumentError) as raised:
        score("orebro_sf", {"q1": 0})
    assert raised.value.item == "q1"


def test_orebro_requires_all_items():
    answers = lowest()
    del answers["q8"]
    result = score("orebro_sf", answers)
    assert result.scorable is False
    assert result.total is None
    assert result.flags == []
    assert result.missing == ["q8"]
