"""Back care follows the STarT Back group (docs/clinical-reference.md §15 and §23)."""

from __future__ import annotations

from .score_builders import (
    fired_rules,
    flag,
    flag_kinds,
    run,
    startback,
    startback_unscorable,
    total_score,
)


def test_startback_low_recommends_self_management_without_a_referral_flag() -> None:
    result = run(scores={"startback": startback("low")})

    assert result.back_care == "self_management"
    assert fired_rules(result) == ["back_care.startback_low"]
    assert result.flags == ()


def test_startback_medium_recommends_physiotherapy_with_a_routine_flag() -> None:
    result = run(scores={"startback": startback("medium")})

    assert result.back_care == "physiotherapy"
    physiotherapy = flag(result, "physiotherapy")
    assert physiotherapy.priority == "routine"
    assert physiotherapy.rules == ("back_care.startback_medium",)


def test_startback_high_recommends_psychologically_informed_physiotherapy() -> None:
    result = run(scores={"startback": startback("high")})

    assert result.back_care == "psychologically_informed_physiotherapy"
    assert flag(result, "psychologically_informed_physiotherapy").priority == "routine"


def test_back_care_evidence_names_the_startback_band() -> None:
    result = run(scores={"startback": startback("medium")})

    (evidence,) = result.reasons[0].evidence
    assert (evidence.instrument, evidence.item, evidence.value) == ("startback", "band", "medium")
    assert "Keele" in evidence.source


def test_back_care_is_none_when_startback_absent() -> None:
    result = run(scores={})

    assert result.back_care is None
    assert result.flags == ()


def test_back_care_is_none_when_startback_not_scorable() -> None:
    result = run(scores={"startback": startback_unscorable()})

    assert result.back_care is None
    assert "physiotherapy" not in flag_kinds(result)


def test_psychological_need_never_changes_the_startback_group() -> None:
    result = run(
        scores={
            "startback": startback("low"),
            "phq9": total_score("phq9", 20),
            "gad7": total_score("gad7", 18),
            "pcs": total_score("pcs", 40),
            "isi": total_score("isi", 25),
        },
        answers={"phq9": {"q9": 0}},
    )

    assert result.back_care == "self_management"
    assert result.is_psychological_therapy_recommended
