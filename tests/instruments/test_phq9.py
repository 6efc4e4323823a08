"""PHQ-9: docs/clinical-reference.md §2 (bands Kroenke 2001, item 9, proration)."""

from __future__ import annotations

import pytest

from intake.instruments import InstrumentError, score
from tests.instruments.helpers import items, spread


def phq9_with_total(total: int) -> dict[str, object]:
    # Fill items 1–8 first so item 9 stays 0 (no safety flag) unless the total needs it.
    return items("q", spread(total, 9, 3))


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (24, "severe"),
    ],
)
def test_phq9_severity_bands_on_both_sides_of_each_boundary(total, band):
    result = score("phq9", phq9_with_total(total))
    assert result.total == total
    assert result.band == band
    assert result.scorable is True
    assert result.prorated is False
    assert result.missing == []
    assert result.flags == []


def test_phq9_maximum_is_27_severe_with_suicidal_ideation():
    result = score("phq9", items("q", [3] * 9))
    assert result.total == 27
    assert result.band == "severe"
    assert result.flags == ["suicidal_ideation"]


def test_phq9_item9_positive_raises_safety_flag_regardless_of_total():
    result = score("phq9", items("q", [0, 0, 0, 0, 0, 0, 0, 0, 1]))
    assert result.total == 1
    assert result.band == "minimal"
    assert "suicidal_ideation" in result.flags


@pytest.mark.parametrize("q9", [1, 2, 3])
def test_phq9_any_item9_response_of_one_or_more_is_flagged(q9):
    result = score("phq9", items("q", [1, 1, 1, 1, 1, 0, 0, 0, q9]))
    assert "suicidal_ideation" in result.flags


def test_phq9_item9_zero_is_not_flagged():
    result = score("phq9", items("q", [3, 3, 3, 3, 3, 3, 3, 3, 0]))
    assert result.total == 24
    assert "suicidal_ideation" not in result.flags
    assert "item9_unanswered" not in result.flags


def test_phq9_blank_item9_is_flagged_and_never_read_as_zero():
    # Items 1–8 = 1 each: sum 8 over 8 answered → 8 × 9 / 8 = 9 (a blank read as 0 would give 8).
    result = score("phq9", items("q", [1] * 8))
    assert result.flags == ["item9_unanswered"]
    assert result.missing == ["q9"]
    assert result.prorated is True
    assert result.total == 9
    assert result.band == "mild"


def test_phq9_item9_none_counts_as_unanswered():
    answers = items("q", [1] * 8) | {"q9": None}
    assert score("phq9", answers).flags == ["item9_unanswered"]


def test_phq9_proration_tie_rounds_half_up():
    # Section 19 trap 10: sum 4 with 8 answered → 4 × 9 / 8 = 4.5 → 5 (half up, not 4).
    answers = items("q", [1, 1, 1, 1, 0, 0, 0, 0]) | {"q9": 0}
    del answers["q8"]
    result = score("phq9", answers)
    assert result.missing == ["q8"]
    assert result.prorated is True
    assert result.total == 5
    assert result.band == "mild"


def test_phq9_proration_rounds_down_below_half():
    # Sum 3 with 8 answered → 27/8 = 3.375 → 3.
    answers = items("q", [1, 1, 1, 0, 0, 0, 0, 0, 0])
    del answers["q5"]
    result = score("phq9", answers)
    assert result.total == 3
    assert result.prorated is True


def test_phq9_two_missing_items_are_prorated():
    # Sum 10 with 7 answered → 90/7 = 12.857… → 13.
    answers = items("q", [2, 2, 2, 2, 2, 0, 0, 0, 0])
    del answers["q7"]
    del answers["q8"]
    result = score("phq9", answers)
    assert result.total == 13
    assert result.band == "moderate"
    assert result.prorated is True
    assert result.missing == ["q7", "q8"]


def test_phq9_three_missing_items_are_not_scorable():
    answers = items("q", [3, 3, 3, 3, 3, 3])
    result = score("phq9", answers)
    assert result.scorable is False
    assert result.total is None
    assert result.band is None
    assert result.prorated is False
    assert result.missing == ["q7", "q8", "q9"]


def test_phq9_suicidal_ideation_is_raised_even_when_not_scorable():
    result = score("phq9", {"q1": 0, "q9": 2})
    assert result.scorable is False
    assert result.total is None
    assert result.flags == ["suicidal_ideation"]


def test_phq9_item10_is_optional_and_unscored():
    base = items("q", [1, 1, 1, 1, 1, 0, 0, 0, 0])
    without = score("phq9", base)
    with_difficulty = score("phq9", base | {"q10": 3})
    assert without.total == with_difficulty.total == 5
    assert without.missing == [] and without.prorated is False


def test_phq9_item10_out_of_range_is_refused():
    with pytest.raises(InstrumentError) as raised:
        score("phq9", {"q10": 4})
    assert raised.value.item == "q10"
