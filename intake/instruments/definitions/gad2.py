"""GAD-2 (GAD-7 items 1-2): docs/clinical-reference.md §4. Deliberately has no severity bands."""

from __future__ import annotations

from intake.instruments.definition import (
    AllItemsRequired,
    Flag,
    InstrumentDefinition,
    Loinc,
    at_least,
)
from intake.instruments.definitions.answer_lists import PHQ_FAMILY_LICENCE
from intake.instruments.definitions.gad7 import ITEMS as GAD7_ITEMS

DEFINITION = InstrumentDefinition(
    code="gad2",
    version="1.0.0",
    title="Generalized Anxiety Disorder-2 (GAD-2)",
    recall_period="last 2 weeks",
    # GAD-7 items 1-2; LOINC items 69725-0, 68509-9 (docs/clinical-reference.md §0).
    items=GAD7_ITEMS[:2],
    total_rule="sum",
    total_range=(0, 6),
    missing_rule=AllItemsRequired("None published; require all items (docs/clinical-reference.md §4, §18)."),
    # No bands: awell's "1-2 mild / 3-4 moderate / 5-6 severe" are not from Kroenke 2007
    # (docs/clinical-reference.md §19 trap 5).
    bands=(),
    flags=(
        Flag(
            "positive",
            (at_least("total", 3),),
            "≥3 positive screen (sens 86%, spec 83%) [S awell GAD_2/README.md citing Kroenke 2007]",
        ),
    ),
    mcid=None,
    loinc=Loinc(source="No GAD-2 panel/total LOINC code found [NC]."),
    licence=PHQ_FAMILY_LICENCE,
    sources=("[S awell src/scores/GAD_2/README.md citing Kroenke 2007 Ann Intern Med]",),
)
