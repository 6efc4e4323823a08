"""Tampa Scale for Kinesiophobia, 17 items (TSK-17): docs/clinical-reference.md §12."""

from __future__ import annotations

from decimal import Decimal

from intake.instruments.definition import (
    AllItemsRequired,
    Flag,
    InstrumentDefinition,
    Item,
    Loinc,
    Mcid,
    above,
    labelled_options,
)

AGREEMENT = labelled_options(
    "Strongly disagree", "Somewhat disagree", "Somewhat agree", "Strongly agree", start=1
)

# Short paraphrases of the 17 statements, in TSK-17 order.
LABELS = {
    1: "Afraid of injury if I exercise",
    2: "Pain would increase if I tried to overcome it",
    3: "Body says something is dangerously wrong",
    4: "Exercise would probably relieve pain",
    5: "People don't take my condition seriously",
    6: "Body at risk for the rest of my life",
    7: "Pain always means injury",
    8: "Aggravating pain isn't necessarily dangerous",
    9: "Afraid of injuring myself accidentally",
    10: "Avoiding unnecessary movement is safest",
    11: "Pain means something dangerous is going on",
    12: "Better off being physically active",
    13: "Pain tells me when to stop exercising",
    14: "Not safe to be physically active",
    15: "Too easy for me to get injured",
    16: "Pain doesn't mean it's dangerous",
    17: "No one should exercise in pain",
}

# Items 4, 8, 12, 16 are reversed: 5 - x [S awell src/scores/tampa/README.md].
_REVERSED = frozenset({4, 8, 12, 16})

DEFINITION = InstrumentDefinition(
    code="tsk17",
    version="1.0.0",
    title="Tampa Scale for Kinesiophobia (17 items)",
    recall_period=None,
    items=tuple(
        Item(
            f"q{number}",
            label,
            AGREEMENT,
            reverse_from=5 if number in _REVERSED else None,
        )
        for number, label in LABELS.items()
    ),
    total_rule="sum",
    total_range=(17, 68),
    missing_rule=AllItemsRequired("None found [NC]; project policy: all items required (§18)."),
    flags=(
        # Strictly greater than 37: awell's code uses >= 37 against its own README and Vlaeyen
        # (docs/clinical-reference.md §19 trap 4).
        Flag(
            "high_kinesiophobia",
            (above("total", 37),),
            ">37 high kinesiophobia (Vlaeyen 1995) [S awell src/scores/tampa/README.md]",
        ),
    ),
    mcid=Mcid(
        points=Decimal(4),
        source="≥4-point reduction on either version [P Woby et al. Pain 2005;117:137]",
    ),
    loinc=Loinc(source="None found [NC]."),
    licence="Licence terms not confirmed [NC].",
    sources=("[S awell src/scores/tampa/README.md]", "[P Woby et al. 2005]"),
)
