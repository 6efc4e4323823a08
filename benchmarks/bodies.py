"""Request bodies the benchmark sends: an lbp-initial intake for a pre-registered patient.

Pure data (no Django), shared by the seeder, the query counter and the load generators.
"""

from __future__ import annotations

import json
from typing import Any

IDENTIFIER_SYSTEM = "urn:bench:mrn"

RED_FLAG_ITEMS = (
    "bladder_dysfunction",
    "bowel_incontinence",
    "saddle_anaesthesia",
    "sexual_dysfunction",
    "bilateral_leg_pain",
    "severe_neurological_deficit",
    "progressive_weakness",
    "widespread_neurology",
    "foot_drop",
    "upgoing_plantars",
    "fever",
    "iv_drug_use",
    "immunosuppression",
    "recent_bacterial_infection",
    "penetrating_wound",
    "history_of_cancer",
    "unexplained_weight_loss",
    "age_at_onset_over_50_or_under_20",
    "failure_to_improve",
    "night_pain",
    "thoracic_pain",
    "major_trauma",
    "minor_trauma_with_osteoporosis",
    "long_term_corticosteroids",
    "structural_deformity",
    "sudden_severe_central_pain",
    "younger_onset",
    "morning_stiffness",
    "improves_with_exercise",
    "second_half_night_waking",
    "alternating_buttock_pain",
)


def identifier_value(index: int) -> str:
    return f"BENCH-{index:06d}"


def _numbered(prefix: str, values: list[int]) -> dict[str, int]:
    return {f"{prefix}{i}": v for i, v in enumerate(values, start=1)}


def intake_responses() -> dict[str, dict[str, Any]]:
    """A typical clinic patient: moderate pain and disability, medium STarT Back risk, mild mood
    symptoms, no red flags. Every instrument of lbp-initial is answered in full."""
    return {
        "nrs": {"pain": 6},
        "peg": {"p": 6, "e": 5, "g": 5},
        "odi": _numbered("s", [2, 1, 2, 2, 2, 1, 1, 1, 2, 1]),
        "startback": _numbered("q", [1, 1, 1, 1, 0, 0, 1, 0, 2]),
        "phq9": _numbered("q", [1, 1, 2, 1, 0, 1, 0, 0, 0, 1]),
        "gad7": _numbered("q", [1, 1, 1, 0, 0, 1, 0]),
        "pcs": _numbered("q", [2, 1, 1, 2, 1, 1, 2, 1, 1, 1, 1, 2, 1]),
        "isi": _numbered("q", [1, 2, 1, 2, 1, 1, 1]),
        "red_flags": dict.fromkeys(RED_FLAG_ITEMS, False),
    }


def variant_responses(index: int) -> dict[str, dict[str, Any]]:
    """Three answer sets in rotation (low, typical, high risk), so the backfill stratifies a mix."""
    responses = intake_responses()
    if index % 3 == 0:
        responses["startback"] = _numbered("q", [0] * 9)
        responses["phq9"] = _numbered("q", [0] * 10)
        responses["nrs"] = {"pain": 2}
    elif index % 3 == 2:
        responses["startback"] = _numbered("q", [1, 1, 1, 1, 1, 1, 1, 1, 4])
        responses["phq9"] = _numbered("q", [2, 2, 2, 2, 2, 2, 1, 1, 0, 2])
        responses["pcs"] = _numbered("q", [3] * 13)
    return responses


def intake_body(identifier: str) -> dict[str, Any]:
    return {
        "patient": {"identifier": {"system": IDENTIFIER_SYSTEM, "value": identifier}},
        "form": "lbp-initial",
        "completed_at": "2026-11-20T09:30:00Z",
        "responses": intake_responses(),
        "pain_duration_weeks": 20,
        "work_status": "working_full_time",
        "medications": ["ibuprofen"],
    }


PATIENT_PLACEHOLDER = "@@IDENTIFIER@@"


def intake_body_template() -> str:
    """The body as compact JSON with a placeholder where the patient identifier goes (for wrk)."""
    return json.dumps(intake_body(PATIENT_PLACEHOLDER), separators=(",", ":"))


BASELINE_BODY = {"name": "pain score", "value": 6, "note": "bench"}
