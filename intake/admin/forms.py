"""The paper-intake transcription form: one field per instrument item, built from the definitions.

Fields only parse what was ticked (a whole number, or blank for unanswered). Whether an answer is
allowed, which items may be missing and what the form requires are decided by the same engine and
service as the API (`intake_submit` / `intake_revise`); their located problems are put back on the
matching fields by `add_problems`.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect
from django.utils import timezone

from intake.batteries import WORK_STATUSES, IntakeForm
from intake.errors import FieldProblem
from intake.instruments import InstrumentDefinition, Item, get
from intake.models import Intake, IntakeRevision
from intake.services.intakes import IntakeAnswers

from .labels import work_status_label

SEPARATOR = "__"
# A clock a little fast on the entering machine must not refuse an intake completed just now.
FUTURE_TOLERANCE = datetime.timedelta(minutes=5)
# An option's value as the form renders it (ASCII digits; \d would also match "٣").
_WHOLE_NUMBER = re.compile(r"-?[0-9]+")


def item_field_name(code: str, item_id: str) -> str:
    return f"{code}{SEPARATOR}{item_id}"


class AnswerField(forms.Field):
    """A ticked option's raw value (int) or None when left blank. The engine checks the value."""

    def to_python(self, value: Any) -> int | None:
        if value in (None, ""):
            return None
        text = str(value).strip()
        # int() alone would read "٣" as 3 and "1_0" as 10: a forged POST must not be a guess.
        if not _WHOLE_NUMBER.fullmatch(text):
            raise forms.ValidationError("Tick one of the options.", code="invalid")
        return int(text)


@dataclass
class Cell:
    value: str
    label: str
    checked: bool
    input_id: str


@dataclass
class Row:
    item: Item
    number: int
    name: str
    cells: list[Cell]
    blank_checked: bool
    errors: list[str]


@dataclass
class Block:
    """Consecutive items sharing the same options: drawn as one grid, options as columns."""

    options: list[tuple[int, str]]
    rows: list[Row] = field(default_factory=list)

    @property
    def is_scale(self) -> bool:
        return len(self.options) > 6


@dataclass
class Section:
    code: str
    definition: InstrumentDefinition
    blocks: list[Block]
    errors: list[str]


def work_status_choices() -> list[tuple[str, str]]:
    return [("", "— not asked / not given —")] + [(code, work_status_label(code)) for code in WORK_STATUSES]


class IntakeStartForm(forms.Form):
    """Step 1: whose paper form, and which form it is."""

    form = forms.ChoiceField(widget=forms.RadioSelect, label="Form")

    def __init__(
        self, *args: Any, patients: Any, forms_available: list[IntakeForm], site: Any, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.fields["patient"] = forms.ModelChoiceField(
            queryset=patients,
            widget=AutocompleteSelect(Intake._meta.get_field("patient"), site),
            help_text="Type a name or an identifier (MRN).",
        )
        self.order_fields(["patient", "form"])
        form_field = self.fields["form"]
        assert isinstance(form_field, forms.ChoiceField)
        form_field.choices = [(f.code, f"{f.title} ({f.code})") for f in forms_available]
        if len(forms_available) == 1:
            self.initial.setdefault("form", forms_available[0].code)


class IntakeAnswersForm(forms.Form):
    """Step 2: every item of the form's instruments, the intake facts, and (for a correction) why."""

    completed_at = forms.DateTimeField(
        label="Completed by the patient at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
    )

    def __init__(self, *args: Any, intake_form: IntakeForm, correction: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.intake_form = intake_form
        self.instrument_errors: dict[str, list[str]] = {}
        for code in intake_form.instruments:
            for item in get(code).items:
                self.fields[item_field_name(code, item.id)] = AnswerField(required=False, label=item.label)
        if intake_form.requires_pain_duration:
            self.fields["pain_duration_weeks"] = forms.IntegerField(
                label="Pain duration (weeks)",
                required=False,
                min_value=0,
                help_text="How long this episode of back pain has lasted.",
            )
        if intake_form.asks_work_status:
            self.fields["work_status"] = forms.ChoiceField(
                label="Work status", choices=work_status_choices(), required=False
            )
        if intake_form.requires_medications:
            self.fields["medications"] = forms.CharField(
                label="Medications",
                required=False,
                widget=forms.Textarea(attrs={"rows": 3, "cols": 50}),
                help_text="One medicine per line, as written on the form (e.g. tramadol, diazepam).",
            )
            self.fields["no_medications"] = forms.BooleanField(
                label="The patient takes no medications", required=False
            )
        if correction:
            self.fields["reason"] = forms.CharField(
                label="Reason for the correction",
                widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
                help_text="Kept with the new revision (e.g. 'PHQ-9 item 3 transcribed as 1, paper says 2').",
            )

    # --- input ---------------------------------------------------------------------------

    def clean_completed_at(self) -> datetime.datetime:
        value: datetime.datetime = self.cleaned_data["completed_at"]
        if value > timezone.now() + FUTURE_TOLERANCE:
            raise forms.ValidationError("This is in the future.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("no_medications") and (data.get("medications") or "").strip():
            self.add_error("medications", "Either list the medications or tick 'takes no medications'.")
        return data

    def answers(self) -> IntakeAnswers:
        """The cleaned input as the service takes it (blank items are simply left out)."""
        data = self.cleaned_data
        responses: dict[str, dict[str, Any]] = {}
        for code in self.intake_form.instruments:
            definition = get(code)
            given: dict[str, Any] = {}
            for item in definition.items:
                value = data.get(item_field_name(code, item.id))
                if value is None:
                    continue
                given[item.id] = bool(value) if item.kind == "yes_no" and value in (0, 1) else value
            responses[code] = given
        medications: list[str] | None = None
        if "medications" in self.fields:
            listed = [line.strip() for line in (data.get("medications") or "").splitlines() if line.strip()]
            medications = listed if listed or data.get("no_medications") else None
        return IntakeAnswers(
            form=self.intake_form.code,
            completed_at=data["completed_at"],
            responses=responses,
            pain_duration_weeks=data.get("pain_duration_weeks"),
            work_status=data.get("work_status") or "",
            medications=medications,
        )

    @staticmethod
    def initial_from(revision: IntakeRevision) -> dict[str, Any]:
        """Field values that reproduce a stored revision (for a correction)."""
        initial: dict[str, Any] = {
            "completed_at": timezone.localtime(revision.completed_at).strftime("%Y-%m-%dT%H:%M"),
            "pain_duration_weeks": revision.pain_duration_weeks,
            "work_status": revision.work_status,
            "medications": "\n".join(revision.medications),
            "no_medications": not revision.medications,
        }
        for code, items in revision.responses.items():
            for item_id, value in items.items():
                if value is not None:
                    initial[item_field_name(code, item_id)] = int(value)
        return initial

    # --- the engine's problems, on the fields they are about --------------------------------

    def add_problems(self, problems: list[FieldProblem]) -> None:
        for problem in problems:
            path = problem.path
            if path.startswith("responses."):
                code, _, item_id = path.removeprefix("responses.").partition(".")
                name = item_field_name(code, item_id)
                if item_id and name in self.fields:
                    self.add_error(name, problem.detail)
                    continue
                if code in self.intake_form.instruments:
                    self.instrument_errors.setdefault(code, []).append(problem.detail)
                    self.add_error(None, f"{get(code).title}: {problem.detail}")
                    continue
            elif path in self.fields:
                self.add_error(path, problem.detail)
                continue
            self.add_error(None, problem.detail)

    # --- layout for the template -------------------------------------------------------------

    def sections(self) -> list[Section]:
        return [self._section(code) for code in self.intake_form.instruments]

    def _section(self, code: str) -> Section:
        definition = get(code)
        blocks: list[Block] = []
        for number, item in enumerate(definition.items, start=1):
            options = [(option.value, option.label) for option in item.options]
            if not blocks or blocks[-1].options != options:
                blocks.append(Block(options=options))
            name = item_field_name(code, item.id)
            bound = self[name]
            current = bound.value()
            current_text = "" if current in (None, "") else str(current)
            blocks[-1].rows.append(
                Row(
                    item=item,
                    number=number,
                    name=bound.html_name,
                    cells=[
                        Cell(
                            value=str(value),
                            label=label,
                            checked=current_text == str(value),
                            input_id=f"id_{name}_{value}",
                        )
                        for value, label in options
                    ],
                    blank_checked=current_text == "",
                    errors=[str(error) for error in bound.errors],
                )
            )
        return Section(
            code=code, definition=definition, blocks=blocks, errors=self.instrument_errors.get(code, [])
        )
