"""Combined physical + psychological care (docs/clinical-reference.md §23)."""

from __future__ import annotations

from .score_builders import flag, flag_kinds, run, startback, total_score


def test_startback_high_is_combined_care_without_psychological_need() -> None:
    result = run(scores={"startback": startback("high")})

    assert result.combined_care is True
    assert not result.is_psychological_therapy_recommended
    assert flag(result, "combined_care").rules == ("combined_care.startback_high",)


def test_startback_high_is_combined_care_with_psychological_need() -> None:
    result = run(scores={"startback": startback("high"), "gad7": total_score("gad7", 15)})

    assert result.combined_care is True
    assert flag(result, "combined_care").priority == "routine"


def test_startback_medium_with_psychological_therapy_is_combined_care() -> None:
    result = run(scores={"startback": startback("medium"), "isi": total_score("isi", 16)})

    assert result.combined_care is True
    combined = flag(result, "combined_care")
    assert combined.rules == ("combined_care.physiotherapy_with_psychological_therapy",)
    assert {(item.instrument, item.item) for item in combined.evidence} == {
        ("startback", "band"),
        ("isi", "total"),
    }


def test_startback_medium_without_psychological_need_is_not_combined_care() -> None:
    result = run(scores={"startback": startback("medium"), "isi": total_score("isi", 14)})

    assert result.combined_care is False
    assert "combined_care" not in flag_kinds(result)


def test_startback_low_with_psychological_need_is_not_combined_care() -> None:
    result = run(scores={"startback": startback("low"), "pcs": total_score("pcs", 35)})

    assert result.combined_care is False
    assert flag_kinds(result) == ["psychological_therapy"]


def test_psychological_need_without_startback_is_not_combined_care() -> None:
    result = run(scores={"phq9": total_score("phq9", 15)}, answers={"phq9": {"q9": 0}})

    assert result.combined_care is False
    assert result.is_psychological_therapy_recommended
