"""Words staff read for the codes the service stores (docs/clinical-reference.md §21 and §23)."""

from __future__ import annotations

from typing import Any

from intake.api.query import INT32_MAX, ascii_integer
from intake.batteries import FORMS
from intake.instruments import InstrumentError, get

FLAG_KINDS = {
    "suspected_cauda_equina": "Suspected cauda equina",
    "urgent_medical_review": "Urgent medical review (red flags)",
    "mental_health_safety": "Mental health safety (PHQ-9 item 9)",
    "mental_health_safety_unanswered": "Mental health safety: PHQ-9 item 9 unanswered",
    "medication_review": "Medication review (opioid with a CNS depressant)",
    "physiotherapy": "Physiotherapy referral",
    "psychologically_informed_physiotherapy": "Psychologically informed physiotherapy referral",
    "psychological_therapy": "Psychological therapy referral",
    "combined_care": "Combined physical + psychological care",
}

BACK_CARE = {
    "self_management": "Self-management (advice, reassurance, education)",
    "physiotherapy": "Physiotherapy",
    "psychologically_informed_physiotherapy": "Psychologically informed physiotherapy",
}


WORK_STATUS = {
    "working_full_time": "Working full time",
    "working_part_time": "Working part time",
    "working_modified_duties": "Working, modified duties",
    "off_work_due_to_pain": "Off work due to pain",
    "unemployed": "Unemployed",
    "retired": "Retired",
    "student": "Student",
    "homemaker": "Homemaker",
    "other": "Other",
}

VERDICTS = {
    "improved": "improved",
    "worsened": "worsened",
    "no_reliable_change": "no reliable change",
}


def flag_kind_label(kind: str) -> str:
    return FLAG_KINDS.get(kind, kind.replace("_", " ").capitalize())


def back_care_label(code: str | None) -> str:
    if not code:
        return "Not decided (STarT Back not scorable or not asked)"
    return BACK_CARE.get(code, code.replace("_", " "))


def code_label(code: str | None) -> str:
    """A band or flag code as words: `moderately_severe` → `moderately severe`."""
    return (code or "").replace("_", " ")


def work_status_label(code: str | None) -> str:
    return WORK_STATUS.get(code or "", code_label(code).capitalize())


def verdict_label(code: str | None) -> str:
    return VERDICTS.get(code or "", code_label(code))


def form_title(code: str) -> str:
    """`lbp-initial` → its title; a single-instrument form → the instrument's title."""
    form = FORMS.get(code)
    return form.title if form is not None else instrument_title(code)


def instrument_title(code: str) -> str:
    try:
        return get(code).title
    except InstrumentError:
        return code


def answer_label(code: str, item_id: str, value: Any) -> str:
    """The option label of a stored raw answer (`True`/`False` for yes/no items)."""
    if value is None:
        return "—"
    try:
        item = get(code).item(item_id)
    except (InstrumentError, KeyError):
        return str(value)
    raw = int(value) if isinstance(value, bool) else value
    for option in item.options:
        if option.value == raw:
            return option.label if option.label == str(raw) else f"{raw} · {option.label}"
    return str(value)


def actor_label(label: str, usernames: dict[int, str]) -> str:
    """`user:7` → the username; `client:3` → "integration 3"."""
    kind, _, ident = label.partition(":")
    user_id = ascii_integer(ident, minimum=1, maximum=INT32_MAX)
    if kind == "user" and user_id is not None:
        return usernames.get(user_id, label)
    if kind == "client":
        return f"integration {ident}"
    return label
