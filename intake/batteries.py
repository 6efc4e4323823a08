"""Intake forms: versioned batteries of instruments plus the few facts asked beside them.

Pure data (no Django). A clinic enables the forms it uses (`Clinic.enabled_forms`). A form's
code never changes meaning: a different battery is a new version.
"""

from __future__ import annotations

from dataclasses import dataclass

from intake.instruments import all_instruments

WORK_STATUSES = (
    "working_full_time",
    "working_part_time",
    "working_modified_duties",
    "off_work_due_to_pain",
    "unemployed",
    "retired",
    "student",
    "homemaker",
    "other",
)


@dataclass(frozen=True)
class IntakeForm:
    code: str
    version: str
    title: str
    instruments: tuple[str, ...]
    requires_pain_duration: bool
    requires_medications: bool
    asks_work_status: bool
    single_instrument: bool = False


FORMS: dict[str, IntakeForm] = {
    form.code: form
    for form in (
        IntakeForm(
            code="lbp-initial",
            version="2026.1",
            title="Low back pain — initial assessment",
            instruments=("nrs", "peg", "odi", "startback", "phq9", "gad7", "pcs", "isi", "red_flags"),
            requires_pain_duration=True,
            requires_medications=True,
            asks_work_status=True,
        ),
        IntakeForm(
            code="lbp-followup",
            version="2026.1",
            title="Low back pain — follow-up",
            instruments=("nrs", "peg", "odi", "phq9", "gad7"),
            requires_pain_duration=False,
            requires_medications=False,
            asks_work_status=False,
        ),
    )
}

DEFAULT_FORMS = tuple(FORMS)

# Every instrument can also be sent on its own (e.g. a PHQ-9 QuestionnaireResponse from an EHR):
# a single-instrument form named by the instrument's code, available to every clinic.
for _definition in all_instruments():
    FORMS[_definition.code] = IntakeForm(
        code=_definition.code,
        version=_definition.version,
        title=_definition.title,
        instruments=(_definition.code,),
        requires_pain_duration=False,
        requires_medications=False,
        asks_work_status=False,
        single_instrument=True,
    )


def get_form(code: str) -> IntakeForm:
    """The form with this code; KeyError if there is none."""
    return FORMS[code]
