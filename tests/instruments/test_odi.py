"""Oswestry Disability Index: docs/clinical-reference.md §5 (Fairbank scoring, exact arithmetic)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest

from intake.instruments import score
from tests.instruments.helpers import items, spread


def odi(values: list[int]) -> dict[str, object]:
    return items("s", values)


def test_odi_all_sections_16_of_50_is_32_percent():
    # Worked example [P Fairbank]: 16 / 50 × 100 = 32%.
    result = score("odi", odi([2, 2, 2, 2, 2, 2, 2, 1, 1, 0]))
    assert result.total == Decimal(32)
    assert isinstance(result.total, Decimal)
    assert result.band == "moderate"
    assert result.missing == []
    assert result.as_dict()["total"] == "32.00"


def test_odi_one_section_missing_16_of_45_is_35_56_not_35_5():
    # Worked example: 16 / 45 × 100 = 35.555…, printed 35.5% but exactly 35.56 at 2 dp (trap 10).
    result = score("odi", odi([2, 2, 2, 2, 2, 2, 2, 1, 1]))
    assert result.missing == ["s10"]
    assert result.scorable is True
    assert result.prorated is False
    assert isinstance(result.total, Decimal)
    assert result.total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) == Decimal("35.56")
    assert abs(Fraction(result.total) - Fraction(1600, 45)) < Fraction(1, 10**20)
    assert result.as_dict()["total"] == "35.56"


def test_odi_sex_life_section_may_be_skipped():
    answers = odi([1] * 10)
    del answers["s8"]
    result = score("odi", answers)
    assert result.total == Decimal(20)
    assert result.band == "minimal"


@pytest.mark.parametrize(
    ("total_points", "percent", "band"),
    [
        (0, 0, "minimal"),
        (10, 20, "minimal"),
        (11, 22, "moderate"),
        (20, 40, "moderate"),
        (21, 42, "severe"),
        (30, 60, "severe"),
        (31, 62, "crippled"),
        (40, 80, "crippled"),
        (41, 82, "bed_bound"),
        (50, 100, "bed_bound"),
    ],
)
def test_odi_bands_on_both_sides_of_each_boundary(total_points, percent, band):
    result = score("odi", odi(spread(total_points, 10, 5)))
    assert result.total == Decimal(percent)
    assert result.band == band


def test_odi_partial_score_just_above_20_is_moderate():
    # 10 / 45 = 22.22%: the "21–40" table leaves a gap; project convention is >20 → moderate.
    result = score("odi", odi([2, 1, 1, 1, 1, 1, 1, 1, 1]))
    assert result.as_dict()["total"] == "22.22"
    assert result.band == "moderate"


def test_odi_partial_score_exactly_20_is_minimal():
    result = score("odi", odi([1] * 9))
    assert result.total == Decimal(20)
    assert result.band == "minimal"


def test_odi_a_single_answered_section_is_scorable():
    # "only a single response in a single section is required" [P Fairbank].
    result = score("odi", {"s1": 3})
    assert result.scorable is True
    assert result.total == Decimal(60)
    assert result.band == "severe"
    assert len(result.missing) == 9


def test_odi_with_no_sections_answered_is_not_scorable():
    result = score("odi", {})
    assert result.scorable is False
    assert result.total is None
    assert result.band is None
    assert result.missing == [f"s{number}" for number in range(1, 11)]


def test_odi_section_value_6_is_refused():
    from intake.instruments import InstrumentError

    with pytest.raises(InstrumentError) as raised:
        score("odi", {"s3": 6})
    assert raised.value.item == "s3"
    assert raised.value.allowed == (0, 1, 2, 3, 4, 5)
