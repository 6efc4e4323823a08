"""Insomnia Severity Index (section 13) and Perceived Stress Scale-10 (section 14)."""

from __future__ import annotations

import pytest

from intake.instruments import InstrumentError, score
from tests.instruments.helpers import items, spread


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "none"),
        (7, "none"),
        (8, "subthreshold"),
        (14, "subthreshold"),
        (15, "moderate"),
        (21, "moderate"),
        (22, "severe"),
        (28, "severe"),
    ],
)
def test_isi_bands_on_both_sides_of_each_boundary(total, band):
    result = score("isi", items("q", spread(total, 7, 4)))
    assert result.total == total
    assert result.band == band


def test_isi_requires_all_items():
    result = score("isi", items("q", [4] * 6))
    assert result.scorable is False
    assert result.band is None


def test_isi_refuses_5():
    with pytest.raises(InstrumentError):
        score("isi", {"q4": 5})


PSS_REVERSED = {4, 5, 7, 8}


def test_pss10_reversed_items_4_5_7_8_score_4_minus_the_mark():
    # All marked 0: the four reversed items score 4 each → 16.
    assert score("pss10", items("q", [0] * 10)).total == 16
    # All marked 4: six items × 4 + four reversed × 0 → 24.
    assert score("pss10", items("q", [4] * 10)).total == 24


def test_pss10_range_is_0_to_40():
    lowest = [4 if number in PSS_REVERSED else 0 for number in range(1, 11)]
    highest = [0 if number in PSS_REVERSED else 4 for number in range(1, 11)]
    assert score("pss10", items("q", lowest)).total == 0
    assert score("pss10", items("q", highest)).total == 40


@pytest.mark.parametrize("values", [[0] * 10, [4] * 10, [2] * 10])
def test_pss10_has_no_official_band(values):
    assert score("pss10", items("q", values)).band is None


def test_pss10_requires_all_items():
    result = score("pss10", items("q", [2] * 9))
    assert result.scorable is False
    assert result.missing == ["q10"]
