"""Properties that hold for every intake (hypothesis)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from intake.instruments.result import ScoreResult
from intake.stratification import Stratification, stratify

from .score_builders import startback

RED_FLAG_CATEGORIES = [
    "suspected_cauda_equina",
    "progressive_neurological_deficit",
    "suspected_infection",
    "suspected_malignancy",
    "suspected_fracture",
    "suspected_inflammatory",
]
MEDICINES = ["tapentadol", "tramadol", "diazepam", "carisoprodol", "Lyrica", "Ambien", "aspirin"]
TOTAL_RANGES = {"phq9": 27, "gad7": 21, "pcs": 52, "isi": 28}


@st.composite
def intakes(draw: st.DrawFn) -> dict[str, Any]:
    scores: dict[str, ScoreResult] = {}
    answers: dict[str, dict[str, Any]] = {}
    band = draw(st.sampled_from([None, "low", "medium", "high"]))
    if band is not None:
        scores["startback"] = startback(band)
    for instrument, maximum in TOTAL_RANGES.items():
        total = draw(st.none() | st.integers(0, maximum))
        if total is not None:
            scores[instrument] = ScoreResult(instrument=instrument, version="1", total=total)
    if "phq9" in scores:
        answers["phq9"] = {"q9": draw(st.none() | st.integers(0, 3))}
    categories = draw(st.lists(st.sampled_from(RED_FLAG_CATEGORIES), unique=True))
    if categories:
        scores["red_flags"] = ScoreResult(
            instrument="red_flags", version="1", total=len(categories), flags=categories
        )
    return {
        "scores": scores,
        "answers": answers,
        "pain_duration_weeks": draw(st.none() | st.integers(0, 520)),
        "medications": draw(st.lists(st.sampled_from(MEDICINES), max_size=4)),
    }


def _urgent_flags(result: Stratification) -> set[tuple[str, str]]:
    return {(flag.kind, flag.priority) for flag in result.flags if flag.is_urgent}


@given(intakes())
def test_same_intake_always_gives_the_same_stratification(intake: dict[str, Any]) -> None:
    assert stratify(**intake) == stratify(**intake)


@given(intakes())
def test_psychological_scores_never_change_back_care(intake: dict[str, Any]) -> None:
    without_psychology = {
        **intake,
        "scores": {
            code: result for code, result in intake["scores"].items() if code not in ("gad7", "pcs", "isi")
        },
    }

    assert stratify(**intake).back_care == stratify(**without_psychology).back_care


@given(intakes())
def test_urgent_flags_do_not_depend_on_startback_or_totals(intake: dict[str, Any]) -> None:
    only_urgent_inputs = {
        **intake,
        "scores": {
            code: result for code, result in intake["scores"].items() if code in ("red_flags", "phq9")
        },
    }

    assert _urgent_flags(stratify(**intake)) == _urgent_flags(stratify(**only_urgent_inputs))


@given(intakes(), st.integers(0, 520))
def test_pain_duration_never_changes_any_flag(intake: dict[str, Any], weeks: int) -> None:
    assert stratify(**intake).flags == stratify(**{**intake, "pain_duration_weeks": weeks}).flags


@given(intakes())
def test_combined_care_matches_section_23(intake: dict[str, Any]) -> None:
    result = stratify(**intake)

    expected = result.back_care == "psychologically_informed_physiotherapy" or (
        result.back_care == "physiotherapy" and result.is_psychological_therapy_recommended
    )
    assert result.combined_care is expected


@given(intakes())
def test_pathway_on_hold_exactly_when_cauda_equina_suspected(intake: dict[str, Any]) -> None:
    result = stratify(**intake)

    red = intake["scores"].get("red_flags")
    suspected = red is not None and "suspected_cauda_equina" in red.flags
    assert result.pathway_on_hold is suspected
