"""Roland-Morris Disability Questionnaire: docs/clinical-reference.md §6 and §18 (checklist)."""

from __future__ import annotations

import pytest

from intake.instruments import InstrumentError, score
from tests.instruments.helpers import items


def test_rmdq_total_is_the_number_of_ticked_statements():
    values = [1] * 5 + [0] * 19
    result = score("rmdq", items("q", values))
    assert result.total == 5
    assert result.band is None
    assert result.missing == []


def test_rmdq_maximum_is_24():
    assert score("rmdq", items("q", [1] * 24)).total == 24


def test_rmdq_blank_lines_score_zero_but_are_listed():
    result = score("rmdq", {"q3": 1, "q17": 1, "q1": 0})
    assert result.total == 2
    assert result.scorable is True
    assert result.prorated is False
    assert "q3" not in result.missing
    assert "q1" not in result.missing
    assert len(result.missing) == 21
    assert result.missing[0] == "q2"


def test_rmdq_empty_checklist_scores_zero():
    result = score("rmdq", {})
    assert result.total == 0
    assert result.scorable is True
    assert len(result.missing) == 24


def test_rmdq_has_no_bands():
    assert score("rmdq", items("q", [0] * 24)).band is None
    assert score("rmdq", items("q", [1] * 24)).band is None


@pytest.mark.parametrize("value", [2, True, "1"])
def test_rmdq_refuses_anything_but_0_or_1(value):
    with pytest.raises(InstrumentError):
        score("rmdq", {"q1": value})


def test_rmdq_unknown_item_25_is_refused():
    with pytest.raises(InstrumentError) as raised:
        score("rmdq", {"q25": 1})
    assert raised.value.item == "q25"
