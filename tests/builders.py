"""Request bodies for intake tests: a complete low-risk lbp-initial intake, varied per test."""

from __future__ import annotations

import copy
from typing import Any

from intake.instruments import get


def numbered(prefix: str, values: list[int]) -> dict[str, int]:
    return {f"{prefix}{i}": value for i, value in enumerate(values, start=1)}


def no_red_flags() -> dict[str, bool]:
    return {item.id: False for item in get("red_flags").items}


def low_risk_responses() -> dict[str, dict[str, Any]]:
    """Every instrument of lbp-initial answered at the low end: no pathway beyond self-management."""
    return {
        "nrs": {"pain": 3},
        "peg": {"p": 3, "e": 2, "g": 2},
        "odi": numbered("s", [1] * 10),
        "startback": numbered("q", [0] * 9),
        "phq9": numbered("q", [0] * 9),
        "gad7": numbered("q", [0] * 7),
        "pcs": numbered("q", [0] * 13),
        "isi": numbered("q", [0] * 7),
        "red_flags": no_red_flags(),
    }


def initial_intake(patient: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """An lbp-initial body; `responses` in `changes` is merged per instrument."""
    body: dict[str, Any] = {
        "patient": patient,
        "form": "lbp-initial",
        "completed_at": "2026-11-20T09:30:00Z",
        "responses": low_risk_responses(),
        "pain_duration_weeks": 20,
        "work_status": "working_full_time",
        "medications": [],
    }
    responses = changes.pop("responses", {})
    body.update(copy.deepcopy(changes))
    for code, answers in responses.items():
        if answers is None:
            body["responses"].pop(code, None)
        else:
            body["responses"][code] = {**body["responses"].get(code, {}), **answers}
    return body


def followup_intake(patient: dict[str, Any], **changes: Any) -> dict[str, Any]:
    responses = low_risk_responses()
    body: dict[str, Any] = {
        "patient": patient,
        "form": "lbp-followup",
        "completed_at": "2026-11-23T09:30:00Z",
        "responses": {code: responses[code] for code in ("nrs", "peg", "odi", "phq9", "gad7")},
    }
    for code, answers in changes.pop("responses", {}).items():
        body["responses"][code] = {**body["responses"][code], **answers}
    body.update(changes)
    return body


# STarT Back answer sets, by the Keele scoring (docs/clinical-reference.md §1).
STARTBACK_MEDIUM = numbered("q", [1, 1, 1, 1, 0, 0, 0, 0, 0])  # total 4, psychosocial 0
STARTBACK_HIGH = numbered("q", [0, 0, 0, 0, 1, 1, 1, 1, 4])  # total 5, psychosocial 5
