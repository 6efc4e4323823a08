"""Tampa Scale for Kinesiophobia, 11 items (TSK-11, Woby 2005): docs/clinical-reference.md §12."""

from __future__ import annotations

from decimal import Decimal

from intake.instruments.definition import (
    AllItemsRequired,
    InstrumentDefinition,
    Item,
    Loinc,
    Mcid,
)
from intake.instruments.definitions.tsk17 import AGREEMENT, LABELS

# TSK-17 without items 4, 8, 12, 16 (low item-total correlation) and 9, 14 (skewed); the
# remaining items keep the TSK-17 order [P Woby 2005; order inferred, NC].
_FROM_TSK17 = (1, 2, 3, 5, 6, 7, 10, 11, 13, 15, 17)

DEFINITION = InstrumentDefinition(
    code="tsk11",
    version="1.0.0",
    title="Tampa Scale for Kinesiophobia (11 items)",
    recall_period=None,
    items=tuple(
        Item(f"q{number}", LABELS[tsk17_number], AGREEMENT, note=f"TSK-17 item {tsk17_number}")
        for number, tsk17_number in enumerate(_FROM_TSK17, start=1)
    ),
    total_rule="sum",
    total_range=(11, 44),
    missing_rule=AllItemsRequired("None found [NC]; project policy: all items required (§18)."),
    # No reversed items, no established cut-off [P Woby 2005].
    mcid=Mcid(
        points=Decimal(4),
        source="≥4-point reduction on either version [P Woby et al. Pain 2005;117:137]",
    ),
    loinc=Loinc(source="None found [NC]."),
    licence="Licence terms not confirmed [NC].",
    sources=("[P Woby et al. Pain 2005;117:137]",),
)
