"""change(): follow-up minus baseline against the published MCIDs (lower is better)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from intake.instruments import InstrumentError, ScoreResult, change, score
from tests.instruments.helpers import items, spread


def result(code: str, total: int | Decimal | None, **fields: object) -> ScoreResult:
    return ScoreResult(instrument=code, version="1.0.0", total=total, **fields)  # type: ignore[arg-type]


def test_phq9_drop_of_5_is_improved():
    # MCID 5 points [P Löwe 2004].
    outcome = change("phq9", result("phq9", 15), result("phq9", 10))
    assert outcome.absolute == -5
    assert outcome.verdict == "improved"


def test_phq9_drop_of_4_is_no_reliable_change():
    outcome = change("phq9", result("phq9", 15), result("phq9", 11))
    assert outcome.verdict == "no_reliable_change"


def test_phq9_rise_of_5_is_worsened():
    assert change("phq9", result("phq9", 10), result("phq9", 15)).verdict == "worsened"


def test_relative_change_is_an_exact_percent():
    outcome = change("phq9", result("phq9", 15), result("phq9", 10))
    assert outcome.relative_percent is not None
    assert outcome.relative_percent.quantize(Decimal("0.01")) == Decimal("-33.33")
    assert outcome.as_dict()["relative_percent"] == "-33.33"


def test_relative_change_is_none_from_a_zero_baseline():
    outcome = change("nrs", result("nrs", 0), result("nrs", 3))
    assert outcome.relative_percent is None
    assert outcome.verdict == "worsened"


def test_odi_drop_of_10_points_is_improved():
    # 10 points or 30% [P Ostelo 2008].
    outcome = change("odi", result("odi", Decimal(50)), result("odi", Decimal(40)))
    assert outcome.absolute == Decimal(-10)
    assert outcome.verdict == "improved"


def test_odi_drop_of_30_percent_is_improved_even_below_10_points():
    outcome = change("odi", result("odi", Decimal(20)), result("odi", Decimal(14)))
    assert outcome.relative_percent == Decimal(-30)
    assert outcome.verdict == "improved"


def test_odi_drop_meeting_neither_threshold_is_no_reliable_change():
    # 30 → 22: −8 points, −26.67%.
    outcome = change("odi", result("odi", Decimal(30)), result("odi", Decimal(22)))
    assert outcome.verdict == "no_reliable_change"


def test_odi_change_on_real_partial_scores_is_exact():
    baseline = score("odi", items("s", [4, 4, 4, 4, 4, 4, 4, 4, 4]))  # 36/45 = 80%
    followup = score("odi", items("s", [3, 3, 3, 3, 3, 3, 3, 3, 4]))  # 28/45 = 62.22%
    outcome = change("odi", baseline, followup)
    assert outcome.as_dict()["absolute"] == "-17.78"
    assert outcome.verdict == "improved"


def test_peg_change_of_exactly_one_point_between_thirds_is_improved():
    # 16/3 → 13/3 is exactly −1, the MCID used (lower end of Reed 2023's 1.0–1.75).
    baseline = score("peg", {"p": 5, "e": 5, "g": 6})
    followup = score("peg", {"p": 4, "e": 4, "g": 5})
    outcome = change("peg", baseline, followup)
    assert outcome.absolute == Decimal(-1)
    assert outcome.verdict == "improved"


def test_nrs_drop_of_2_is_improved_and_1_of_3_is_improved_by_percent():
    assert change("nrs", result("nrs", 8), result("nrs", 6)).verdict == "improved"
    assert change("nrs", result("nrs", 3), result("nrs", 2)).verdict == "improved"
    assert change("nrs", result("nrs", 8), result("nrs", 7)).verdict == "no_reliable_change"


def test_instrument_without_mcid_has_no_verdict():
    outcome = change("startback", result("startback", 6), result("startback", 1))
    assert outcome.absolute == -5
    assert outcome.verdict is None


def test_fabq_has_no_total_to_compare():
    with pytest.raises(InstrumentError):
        change("fabq", result("fabq", None), result("fabq", None))


def test_fabq_work_subscale_change_uses_its_own_mcid():
    baseline = result("fabq", None, subscales={"physical_activity": 20, "work": 30})
    followup = result("fabq", None, subscales={"physical_activity": 17, "work": 23})
    assert change("fabq", baseline, followup, scale="work").verdict == "improved"
    assert change("fabq", baseline, followup, scale="physical_activity").verdict == ("no_reliable_change")


def test_not_scorable_result_cannot_be_compared():
    not_scorable = score("gad7", items("q", spread(10, 6, 3)))
    with pytest.raises(InstrumentError):
        change("gad7", not_scorable, result("gad7", 5))


def test_results_of_another_instrument_are_refused():
    with pytest.raises(InstrumentError):
        change("phq9", result("gad7", 10), result("phq9", 5))
