"""Tampa Scale for Kinesiophobia TSK-17 and TSK-11: docs/clinical-reference.md §12."""

from __future__ import annotations

import pytest

from intake.instruments import InstrumentError, score
from tests.instruments.helpers import items

REVERSED = {4, 8, 12, 16}
NOT_REVERSED = [number for number in range(1, 18) if number not in REVERSED]


def tsk17(non_reversed: list[int], reversed_raw: int) -> dict[str, object]:
    answers: dict[str, object] = {f"q{n}": v for n, v in zip(NOT_REVERSED, non_reversed, strict=True)}
    answers |= {f"q{number}": reversed_raw for number in REVERSED}
    return answers


def test_tsk17_minimum_is_17():
    # Non-reversed items 1; reversed items marked 4 score 5 − 4 = 1.
    assert score("tsk17", tsk17([1] * 13, 4)).total == 17


def test_tsk17_maximum_is_68():
    result = score("tsk17", tsk17([4] * 13, 1))
    assert result.total == 68
    assert result.flags == ["high_kinesiophobia"]


def test_tsk17_reversed_items_score_5_minus_the_mark():
    # All items marked 1: 13 × 1 + 4 × (5 − 1) = 29.
    assert score("tsk17", items("q", [1] * 17)).total == 29
    # All items marked 4: 13 × 4 + 4 × 1 = 56.
    assert score("tsk17", items("q", [4] * 17)).total == 56


def test_tsk17_37_is_not_high_kinesiophobia():
    # Section 19 trap 4: the published rule is > 37 (awell's >= 37 is wrong).
    # Reversed items marked 4 → 4 points; non-reversed 7 × 3 + 6 × 2 = 33; total 37.
    result = score("tsk17", tsk17([3] * 7 + [2] * 6, 4))
    assert result.total == 37
    assert result.flags == []


def test_tsk17_38_is_high_kinesiophobia():
    result = score("tsk17", tsk17([3] * 8 + [2] * 5, 4))
    assert result.total == 38
    assert result.flags == ["high_kinesiophobia"]
    assert result.band is None


def test_tsk17_requires_all_items():
    answers = items("q", [4] * 16)
    result = score("tsk17", answers)
    assert result.scorable is False
    assert result.flags == []
    assert result.missing == ["q17"]


@pytest.mark.parametrize("value", [0, 5])
def test_tsk17_refuses_values_outside_1_to_4(value):
    with pytest.raises(InstrumentError) as raised:
        score("tsk17", {"q1": value})
    assert raised.value.allowed == (1, 2, 3, 4)


def test_tsk11_range_is_11_to_44_without_reversal_or_flags():
    assert score("tsk11", items("q", [1] * 11)).total == 11
    result = score("tsk11", items("q", [4] * 11))
    assert result.total == 44
    assert result.flags == []
    assert result.band is None


def test_tsk11_has_no_item_12():
    with pytest.raises(InstrumentError):
        score("tsk11", {"q12": 1})
