"""GAD-7, PHQ-2, GAD-2, PHQ-4: docs/clinical-reference.md §3 and §4."""

from __future__ import annotations

import pytest

from intake.instruments import score
from tests.instruments.helpers import items, spread


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_bands_on_both_sides_of_each_boundary(total, band):
    result = score("gad7", items("q", spread(total, 7, 3)))
    assert result.total == total
    assert result.band == band


@pytest.mark.parametrize(("total", "flagged"), [(9, False), (10, True)])
def test_gad7_further_evaluation_from_10(total, flagged):
    result = score("gad7", items("q", spread(total, 7, 3)))
    assert ("further_evaluation" in result.flags) is flagged


def test_gad7_requires_all_items():
    result = score("gad7", items("q", [3, 3, 3, 3, 3, 3]))
    assert result.scorable is False
    assert result.total is None
    assert result.band is None
    assert result.flags == []
    assert result.missing == ["q7"]


@pytest.mark.parametrize(("values", "positive"), [([1, 1], False), ([2, 0], False), ([2, 1], True)])
def test_phq2_positive_from_3(values, positive):
    result = score("phq2", items("q", values))
    assert result.total == sum(values)
    assert result.band is None
    assert (result.flags == ["positive"]) is positive


@pytest.mark.parametrize(("values", "positive"), [([1, 1], False), ([0, 3], True)])
def test_gad2_positive_from_3(values, positive):
    result = score("gad2", items("q", values))
    assert (result.flags == ["positive"]) is positive


@pytest.mark.parametrize("values", [[0, 1], [1, 1], [2, 2], [3, 3]])
def test_gad2_has_no_severity_bands(values):
    # Section 19 trap 5: awell's 1–2/3–4/5–6 bands are not from Kroenke 2007.
    assert score("gad2", items("q", values)).band is None


def test_phq2_and_gad2_need_both_items():
    assert score("phq2", {"q1": 3}).scorable is False
    assert score("gad2", {"q2": 3}).missing == ["q1"]


@pytest.mark.parametrize(
    ("values", "band"),
    [
        ([0, 0, 0, 0], "normal"),
        ([1, 1, 0, 0], "normal"),
        ([1, 1, 1, 0], "mild"),
        ([1, 1, 1, 2], "mild"),
        ([2, 2, 1, 1], "moderate"),
        ([2, 2, 2, 2], "moderate"),
        ([3, 2, 2, 2], "severe"),
        ([3, 3, 3, 3], "severe"),
    ],
)
def test_phq4_bands_on_both_sides_of_each_boundary(values, band):
    result = score("phq4", items("q", values))
    assert result.total == sum(values)
    assert result.band == band


def test_phq4_subscales_are_anxiety_items_1_2_and_depression_items_3_4():
    result = score("phq4", items("q", [3, 1, 0, 2]))
    assert result.subscales == {"anxiety": 4, "depression": 2}


@pytest.mark.parametrize(
    ("values", "flags"),
    [
        ([1, 1, 1, 1], []),
        ([2, 1, 1, 1], ["anxiety_positive"]),
        ([1, 1, 1, 2], ["depression_positive"]),
        ([3, 0, 0, 3], ["anxiety_positive", "depression_positive"]),
    ],
)
def test_phq4_subscale_positive_from_3(values, flags):
    assert score("phq4", items("q", values)).flags == flags


def test_phq4_complete_subscale_is_reported_when_the_total_is_not():
    result = score("phq4", {"q1": 2, "q2": 2})
    assert result.scorable is False
    assert result.total is None
    assert result.subscales == {"anxiety": 4, "depression": None}
    assert result.flags == ["anxiety_positive"]
