"""Örebro Musculoskeletal Pain Screening Questionnaire, short form (ÖMPSQ-10):
docs/clinical-reference.md §9."""

from __future__ import annotations

from intake.instruments.definition import (
    AllItemsRequired,
    Flag,
    InstrumentDefinition,
    Item,
    Loinc,
    Option,
    at_least,
    numbered_options,
)

LINTON = "[P Linton, Nicholas & MacDonald 2011 Spine 36:1891, pubmed 21192286]"
PHYSIOTUTORS = "[S physiotutors.com orebro-short-form; awell ompq_10_inputs.ts]"

# Item 1: ten ordered duration categories scored 1-10 (English labels as in awell; wording varies
# between language versions, so the category index is what is stored) (docs/clinical-reference.md §9).
_DURATION = (
    Option(1, "0-1 weeks"),
    Option(2, "1-2 weeks"),
    Option(3, "3-4 weeks"),
    Option(4, "4-5 weeks"),
    Option(5, "6-8 weeks"),
    Option(6, "9-11 weeks"),
    Option(7, "3-6 months"),
    Option(8, "6-9 months"),
    Option(9, "9-12 months"),
    Option(10, "Over 1 year"),
)
_ZERO_TO_TEN = numbered_options(0, 10)

DEFINITION = InstrumentDefinition(
    code="orebro_sf",
    version="1.0.0",
    title="Örebro Musculoskeletal Pain Screening Questionnaire — short form (ÖMPSQ-10)",
    recall_period="item-specific (past week for pain and mood items)",
    items=(
        Item("q1", "Duration of current pain problem", _DURATION),
        Item("q2", "Pain rating, past week", _ZERO_TO_TEN, kind="scale"),
        # Items 3, 4 and 8 are scored 10 - x [S physiotutors "10 minus the circled number";
        # awell INVERSE_ITEMS].
        Item("q3", "Can do light work for an hour", _ZERO_TO_TEN, kind="scale", reverse_from=10),
        Item("q4", "Can sleep at night", _ZERO_TO_TEN, kind="scale", reverse_from=10),
        Item("q5", "Tense or anxious, past week", _ZERO_TO_TEN, kind="scale"),
        Item("q6", "Bothered by feeling depressed, past week", _ZERO_TO_TEN, kind="scale"),
        Item("q7", "Risk that the pain becomes persistent", _ZERO_TO_TEN, kind="scale"),
        Item(
            "q8",
            "Chance of working normal duties in 3 months",
            _ZERO_TO_TEN,
            kind="scale",
            reverse_from=10,
        ),
        Item("q9", "Pain increase means I should stop activity", _ZERO_TO_TEN, kind="scale"),
        Item("q10", "Should not do normal work with present pain", _ZERO_TO_TEN, kind="scale"),
    ),
    total_rule="sum",
    total_range=(1, 100),
    missing_rule=AllItemsRequired("None published [NC]; project policy: all items required (§18)."),
    flags=(
        # "A cutoff of 50 … identified 85% [occupational] and 83% [primary care]"; awell uses >49,
        # identical for integers.
        Flag("high_risk", (at_least("total", 50),), f"≥50 high risk {LINTON}"),
    ),
    mcid=None,  # [NC] (docs/clinical-reference.md §9, §20)
    loinc=Loinc(source="None found [NC]."),
    licence="Licence terms not confirmed [NC].",
    sources=(LINTON, PHYSIOTUTORS),
    notes=("For a >3-month population item 1 will always be ≥7 (docs/clinical-reference.md §9).",),
)
