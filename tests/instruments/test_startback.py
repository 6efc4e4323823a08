"""Keele STarT Back Screening Tool: docs/clinical-reference.md §1."""

from __future__ import annotations

import pytest

from intake.instruments import InstrumentError, score

NONE_POSITIVE = {f"q{number}": 0 for number in range(1, 10)}


def startback(*agreed: int, q9: int = 0) -> dict[str, object]:
    """Agree (1) with the listed items 1–8, disagree with the rest; item 9 raw 0–4."""
    answers = dict(NONE_POSITIVE)
    for number in agreed:
        answers[f"q{number}"] = 1
    answers["q9"] = q9
    return answers


def test_startback_total_3_is_low():
    result = score("startback", startback(1, 2, 3))
    assert result.total == 3
    assert result.subscales == {"psychosocial": 0}
    assert result.band == "low"


def test_startback_total_3_with_psychosocial_3_is_still_low():
    result = score("startback", startback(5, 6, 7))
    assert result.total == 3
    assert result.subscales == {"psychosocial": 3}
    assert result.band == "low"


def test_startback_total_4_with_psychosocial_0_is_medium():
    result = score("startback", startback(1, 2, 3, 4))
    assert result.total == 4
    assert result.band == "medium"


def test_startback_total_4_with_psychosocial_3_is_medium():
    result = score("startback", startback(1, 5, 6, 7))
    assert result.subscales == {"psychosocial": 3}
    assert result.band == "medium"


def test_startback_psychosocial_4_is_high():
    result = score("startback", startback(5, 6, 7, 8))
    assert result.total == 4
    assert result.subscales == {"psychosocial": 4}
    assert result.band == "high"


def test_startback_all_positive_is_9_high():
    result = score("startback", startback(1, 2, 3, 4, 5, 6, 7, 8, q9=4))
    assert result.total == 9
    assert result.subscales == {"psychosocial": 5}
    assert result.band == "high"


@pytest.mark.parametrize(("q9", "counted"), [(0, 0), (1, 0), (2, 0), (3, 1), (4, 1)])
def test_startback_item9_only_very_much_or_extremely_is_positive(q9, counted):
    result = score("startback", startback(q9=q9))
    assert result.total == counted
    assert result.subscales == {"psychosocial": counted}


def test_startback_item9_moderately_keeps_psychosocial_at_3_low():
    result = score("startback", startback(5, 6, 7, q9=2))
    assert result.total == 3
    assert result.band == "low"


def test_startback_item9_very_much_tips_psychosocial_to_4_high():
    result = score("startback", startback(5, 6, 7, q9=3))
    assert result.total == 4
    assert result.subscales == {"psychosocial": 4}
    assert result.band == "high"


def test_startback_psychosocial_is_items_5_to_9_not_1_4_7_8_9():
    # Section 19 trap 1: with items 1, 4, 7, 8, 9 positive, the wrong ordering would give
    # psychosocial 5 (high); Keele/LOINC items 5–9 give 3 → medium.
    result = score("startback", startback(1, 4, 7, 8, q9=4))
    assert result.total == 5
    assert result.subscales == {"psychosocial": 3}
    assert result.band == "medium"


def test_startback_missing_item_is_not_scorable():
    answers = startback(1, 2, 3, 4, 5)
    del answers["q2"]
    result = score("startback", answers)
    assert result.scorable is False
    assert result.total is None
    assert result.band is None
    assert result.missing == ["q2"]


def test_startback_item1_to_8_accept_only_0_or_1():
    with pytest.raises(InstrumentError) as raised:
        score("startback", {"q3": 2})
    assert raised.value.allowed == (0, 1)


def test_startback_item9_accepts_0_to_4():
    with pytest.raises(InstrumentError) as raised:
        score("startback", {"q9": 5})
    assert raised.value.allowed == (0, 1, 2, 3, 4)
