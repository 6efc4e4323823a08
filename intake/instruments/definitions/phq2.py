"""PHQ-2 (PHQ-9 items 1-2): docs/clinical-reference.md §4."""

from __future__ import annotations

from intake.instruments.definition import (
    AllItemsRequired,
    Flag,
    InstrumentDefinition,
    Loinc,
    at_least,
)
from intake.instruments.definitions.answer_lists import PHQ_FAMILY_LICENCE
from intake.instruments.definitions.phq9 import ITEMS as PHQ9_ITEMS

DEFINITION = InstrumentDefinition(
    code="phq2",
    version="1.0.0",
    title="Patient Health Questionnaire-2 (PHQ-2)",
    recall_period="last 2 weeks",
    # The same two questions (and LOINC question codes) as PHQ-9 items 1-2.
    items=PHQ9_ITEMS[:2],
    total_rule="sum",
    total_range=(0, 6),
    missing_rule=AllItemsRequired("None published; require all items (docs/clinical-reference.md §4, §18)."),
    flags=(
        # ≥3 positive → complete the PHQ-9. (≥2 is more sensitive, Arroll 2010; not the default.)
        Flag("positive", (at_least("total", 3),), "≥3 positive screen [P Kroenke 2003]"),
    ),
    mcid=None,  # none given (docs/clinical-reference.md §0)
    loinc=Loinc(panel="55757-9", total="55758-7", source="[P https://cdn.loinc.org/55757-9]"),
    licence=PHQ_FAMILY_LICENCE,
    sources=("[P Kroenke 2003]", "[S awell src/scores/phq_2/README.md]", "[P Arroll 2010 PMC2906530]"),
)
