"""Staff read words, not codes: every code a template shows goes through `intake.admin.labels`."""

from __future__ import annotations

import re
from pathlib import Path

from intake.admin.labels import VERDICTS, WORK_STATUS, form_title, verdict_label, work_status_label
from intake.batteries import FORMS, WORK_STATUSES
from intake.instruments import all_instruments

TEMPLATES = Path(__file__).resolve().parents[2] / "intake" / "templates"


def test_every_work_status_has_words() -> None:
    assert set(WORK_STATUS) == set(WORK_STATUSES)
    assert work_status_label("off_work_due_to_pain") == "Off work due to pain"


def test_every_change_verdict_has_words() -> None:
    assert verdict_label("no_reliable_change") == "no reliable change"
    assert set(VERDICTS) == {"improved", "worsened", "no_reliable_change"}


def test_every_form_code_has_a_title() -> None:
    assert form_title("lbp-initial") == FORMS["lbp-initial"].title
    for definition in all_instruments():
        assert form_title(definition.code) == definition.title


def test_no_template_strips_underscores_out_of_a_code() -> None:
    # `cut:"_"` turned off_work_due_to_pain into "offworkduetopain": codes go through a label filter
    offenders = [
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if re.search(r"\|\s*cut\s*:", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
