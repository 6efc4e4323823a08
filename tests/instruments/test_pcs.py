"""Pain Catastrophizing Scale: docs/clinical-reference.md §10."""

from __future__ import annotations

import pytest

from intake.instruments import InstrumentError, score
from tests.instruments.helpers import items, spread


def test_pcs_subscales_rumination_magnification_helplessness():
    # q1..q13 = 4,3,2,1,0,4,3,2,1,0,4,3,2
    # helplessness 1–5 + 12 = 4+3+2+1+0+3 = 13; magnification 6, 7, 13 = 4+3+2 = 9;
    # rumination 8–11 = 2+1+0+4 = 7; total 29.
    result = score("pcs", items("q", [4, 3, 2, 1, 0, 4, 3, 2, 1, 0, 4, 3, 2]))
    assert result.subscales == {"rumination": 7, "magnification": 9, "helplessness": 13}
    assert result.total == 29
    assert result.flags == []


def test_pcs_range_is_0_to_52():
    assert score("pcs", items("q", [0] * 13)).total == 0
    result = score("pcs", items("q", [4] * 13))
    assert result.total == 52
    assert result.subscales == {"rumination": 16, "magnification": 12, "helplessness": 24}


@pytest.mark.parametrize(("total", "flagged"), [(29, False), (30, True), (31, True)])
def test_pcs_clinically_relevant_from_30(total, flagged):
    result = score("pcs", items("q", spread(total, 13, 4)))
    assert result.total == total
    assert ("clinically_relevant" in result.flags) is flagged
    assert result.band is None


def test_pcs_requires_all_items_for_the_total():
    result = score("pcs", items("q", [4] * 12))
    assert result.scorable is False
    assert result.total is None
    assert result.flags == []
    assert result.missing == ["q13"]
    # Subscales whose items are all present are still reported.
    assert result.subscales == {"rumination": 16, "magnification": None, "helplessness": 24}


def test_pcs_refuses_5():
    with pytest.raises(InstrumentError):
        score("pcs", {"q1": 5})
