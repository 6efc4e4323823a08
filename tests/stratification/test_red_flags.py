"""Red flags from the section 16 categories (docs/clinical-reference.md §23)."""

from __future__ import annotations

import pytest

from .score_builders import flag, flag_kinds, red_flags, run, startback, startback_unscorable

OTHER_CATEGORIES = [
    "progressive_neurological_deficit",
    "suspected_infection",
    "suspected_malignancy",
    "suspected_fracture",
    "suspected_inflammatory",
]


def test_cauda_equina_raises_emergency_flag() -> None:
    result = run(scores={"red_flags": red_flags("suspected_cauda_equina")})

    cauda_equina = flag(result, "suspected_cauda_equina")
    assert cauda_equina.priority == "emergency"
    assert cauda_equina.rules == ("urgent.cauda_equina",)


def test_cauda_equina_puts_the_pathway_on_hold() -> None:
    result = run(scores={"red_flags": red_flags("suspected_cauda_equina"), "startback": startback("high")})

    assert result.pathway_on_hold is True
    # The recommendation is still reported, for after the medical review.
    assert result.back_care == "psychologically_informed_physiotherapy"


def test_pathway_not_on_hold_without_cauda_equina() -> None:
    result = run(scores={"red_flags": red_flags(*OTHER_CATEGORIES)})

    assert result.pathway_on_hold is False


@pytest.mark.parametrize("category", OTHER_CATEGORIES)
def test_other_red_flag_category_raises_urgent_medical_review(category: str) -> None:
    result = run(scores={"red_flags": red_flags(category)})

    review = flag(result, "urgent_medical_review")
    assert review.priority == "urgent"
    assert [item.item for item in review.evidence] == [category]
    assert "suspected_cauda_equina" not in flag_kinds(result)


def test_several_red_flag_categories_raise_one_review_listing_each_category() -> None:
    result = run(scores={"red_flags": red_flags("suspected_malignancy", "suspected_fracture")})

    review = flag(result, "urgent_medical_review")
    assert review.rules == ("urgent.suspected_malignancy", "urgent.suspected_fracture")
    assert [item.item for item in review.evidence] == [
        "suspected_malignancy",
        "suspected_fracture",
    ]


def test_red_flags_raised_when_startback_missing() -> None:
    result = run(scores={"red_flags": red_flags("suspected_cauda_equina", "suspected_infection")})

    assert result.back_care is None
    assert result.urgent == ("suspected_cauda_equina", "urgent_medical_review")


def test_red_flags_raised_when_startback_not_scorable() -> None:
    result = run(
        scores={
            "startback": startback_unscorable(),
            "red_flags": red_flags("suspected_infection"),
        }
    )

    assert result.urgent == ("urgent_medical_review",)


def test_no_red_flags_raise_no_urgent_flag() -> None:
    result = run(scores={"red_flags": red_flags(), "startback": startback("medium")})

    assert result.urgent == ()
