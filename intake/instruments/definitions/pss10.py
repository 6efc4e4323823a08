"""Perceived Stress Scale, 10 items (PSS-10): docs/clinical-reference.md §14. No official bands."""

from __future__ import annotations

from intake.instruments.definition import (
    AllItemsRequired,
    InstrumentDefinition,
    Item,
    Loinc,
    labelled_options,
)

_FREQUENCY = labelled_options("Never", "Almost never", "Sometimes", "Fairly often", "Very often")

# Short paraphrases. Items 4, 5, 7, 8 are positively worded and scored 4 - x
# [P https://arc.psych.wisc.edu/self-report/perceived-stress-scale-pss/; PMC4481047].
# LOINC answer codes for 4, 5, 7, 8 are already reversed: the engine takes the raw 0-4 marked
# value, so LOINC-coded answers must be mapped back to raw before scoring (§19 trap 11).
_ITEMS = (
    ("q1", "Upset by something unexpected", None),
    ("q2", "Unable to control important things", None),
    ("q3", "Nervous and stressed", None),
    ("q4", "Confident handling personal problems", 4),
    ("q5", "Things going my way", 4),
    ("q6", "Could not cope with all I had to do", None),
    ("q7", "Able to control irritations", 4),
    ("q8", "On top of things", 4),
    ("q9", "Angered by things outside my control", None),
    ("q10", "Difficulties piling up too high", None),
)

DEFINITION = InstrumentDefinition(
    code="pss10",
    version="1.0.0",
    title="Perceived Stress Scale (10 items)",
    recall_period="last month",
    items=tuple(
        Item(item_id, label, _FREQUENCY, reverse_from=reverse_from) for item_id, label, reverse_from in _ITEMS
    ),
    total_rule="sum",
    total_range=(0, 40),
    missing_rule=AllItemsRequired("None found [NC]; project policy: all items required (§18)."),
    # No bands: "there are no cut-offs for classification … into high, medium or low stress"
    # [P https://loinc.org/64394-0]; the circulating 0-13/14-26/27-40 bands are not from Cohen.
    bands=(),
    mcid=None,  # [NC]
    loinc=Loinc(
        panel="106875-8",
        total="106860-0",
        source="panel [S findacode.com], total [S autoicdapi.com]; PhenX panel 64394-0 [P loinc.org]",
    ),
    licence=(
        "Free for nonprofit academic research or educational purposes [P loinc.org/64394-0]; "
        "profit-related use needs permission (ASA and Cohen) [S] — commercial use needs permission."
    ),
    sources=("[P arc.psych.wisc.edu PSS]", "[P LOINC 66830-1 answer list LL1625-4]"),
)
