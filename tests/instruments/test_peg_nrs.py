"""PEG (section 7) and NRS (section 8)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from intake.instruments import InstrumentError, score


def test_peg_total_is_the_exact_mean():
    result = score("peg", {"p": 5, "e": 5, "g": 6})
    assert isinstance(result.total, Decimal)
    assert abs(Fraction(result.total) - Fraction(16, 3)) < Fraction(1, 10**20)
    assert result.as_dict()["total"] == "5.33"


def test_peg_mean_of_whole_numbers_is_exact():
    assert score("peg", {"p": 4, "e": 6, "g": 8}).total == Decimal(6)
    assert score("peg", {"p": 10, "e": 10, "g": 10}).total == Decimal(10)


def test_peg_two_thirds_displays_half_up():
    # 2/3 = 0.666… → "0.67".
    assert score("peg", {"p": 1, "e": 1, "g": 0}).as_dict()["total"] == "0.67"


def test_peg_has_no_bands():
    assert score("peg", {"p": 10, "e": 10, "g": 10}).band is None


def test_peg_requires_all_three_items():
    result = score("peg", {"p": 7, "g": 7})
    assert result.scorable is False
    assert result.total is None
    assert result.missing == ["e"]


def test_peg_refuses_11():
    with pytest.raises(InstrumentError) as raised:
        score("peg", {"g": 11})
    assert raised.value.item == "g"


@pytest.mark.parametrize(
    ("pain", "band"),
    [
        (0, "none"),
        (1, "mild"),
        (5, "mild"),
        (6, "moderate"),
        (7, "moderate"),
        (8, "severe"),
        (10, "severe"),
    ],
)
def test_nrs_default_scheme_boonstra_2016(pain, band):
    result = score("nrs", {"pain": pain})
    assert result.total == pain
    assert result.band == band


def test_nrs_missing_is_not_scorable():
    result = score("nrs", {})
    assert result.scorable is False
    assert result.band is None


@pytest.mark.parametrize("value", [11, -1, 7.5, "7"])
def test_nrs_refuses_values_outside_0_to_10(value):
    with pytest.raises(InstrumentError):
        score("nrs", {"pain": value})
