"""Fear-Avoidance Beliefs Questionnaire: docs/clinical-reference.md §11."""

from __future__ import annotations

import pytest

from intake.instruments import InstrumentError, score

PHYSICAL_ACTIVITY = ("q2", "q3", "q4", "q5")
WORK = ("q6", "q7", "q9", "q10", "q11", "q12", "q15")
UNSCORED = ("q1", "q8", "q13", "q14", "q16")


def fabq(physical_activity: list[int], work: list[int], unscored: int = 0) -> dict[str, object]:
    answers: dict[str, object] = dict(zip(PHYSICAL_ACTIVITY, physical_activity, strict=True))
    answers |= dict(zip(WORK, work, strict=True))
    answers |= {item_id: unscored for item_id in UNSCORED}
    return answers


def test_fabq_has_no_total_only_subscales():
    result = score("fabq", fabq([1, 2, 3, 4], [1, 1, 1, 1, 1, 1, 1]))
    assert result.total is None
    assert result.subscales == {"physical_activity": 10, "work": 7}
    assert result.scorable is True
    assert result.band is None


def test_fabq_unscored_items_do_not_count():
    result = score("fabq", fabq([0] * 4, [0] * 7, unscored=6))
    assert result.subscales == {"physical_activity": 0, "work": 0}


def test_fabq_item11_is_scored_in_work():
    # Section 19 trap 6: item 11 belongs to the work subscale.
    result = score("fabq", fabq([0] * 4, [0, 0, 0, 0, 6, 0, 0]))
    assert result.subscales["work"] == 6


def test_fabq_maximums_24_and_42():
    result = score("fabq", fabq([6] * 4, [6] * 7))
    assert result.subscales == {"physical_activity": 24, "work": 42}
    assert result.flags == ["physical_activity_above_15", "work_above_34"]


@pytest.mark.parametrize(("values", "flagged"), [([6, 6, 3, 0], False), ([6, 6, 4, 0], True)])
def test_fabq_physical_activity_flag_strictly_above_15(values, flagged):
    result = score("fabq", fabq(values, [0] * 7))
    assert ("physical_activity_above_15" in result.flags) is flagged


@pytest.mark.parametrize(
    ("values", "flagged"),
    [([6, 6, 6, 6, 6, 4, 0], False), ([6, 6, 6, 6, 6, 5, 0], True)],
)
def test_fabq_work_flag_strictly_above_34(values, flagged):
    result = score("fabq", fabq([0] * 4, values))
    assert ("work_above_34" in result.flags) is flagged


def test_fabq_subscale_is_computed_when_its_items_are_present():
    answers = dict(zip(PHYSICAL_ACTIVITY, [4, 4, 4, 4], strict=True))
    result = score("fabq", answers)
    assert result.subscales == {"physical_activity": 16, "work": None}
    assert result.flags == ["physical_activity_above_15"]
    assert result.scorable is False
    assert result.missing == list(WORK)


def test_fabq_unscored_items_are_not_required():
    answers = fabq([0] * 4, [0] * 7)
    for item_id in UNSCORED:
        del answers[item_id]
    result = score("fabq", answers)
    assert result.scorable is True
    assert result.missing == []


def test_fabq_refuses_7():
    with pytest.raises(InstrumentError):
        score("fabq", {"q2": 7})
