"""Fear-Avoidance Beliefs Questionnaire (FABQ): docs/clinical-reference.md §11. Has no total."""

from __future__ import annotations

from decimal import Decimal

from intake.instruments.definition import (
    AllItemsRequired,
    Flag,
    InstrumentDefinition,
    Item,
    Loinc,
    Mcid,
    Subscale,
    above,
    numbered_options,
)

WADDELL = "[P Waddell 1993 via JOSPT 2012 LBP CPG table, PMC4893951]"
SPRYPT = "[S https://www.sprypt.com/proms/fear-avoidance-beliefs-questionnaire-step-by-step-guide]"

_AGREEMENT = numbered_options(0, 6, {0: "Completely disagree", 3: "Unsure", 6: "Completely agree"})

# Items 1, 8, 13, 14, 16 are not scored (one vendor page wrongly lists 11;
# docs/clinical-reference.md §19 trap 6).
_UNSCORED = frozenset({1, 8, 13, 14, 16})

# Short paraphrases of the 16 statements.
_LABELS = (
    "Pain was caused by physical activity",
    "Physical activity makes pain worse",
    "Physical activity might harm my back",
    "Should not do activities that make pain worse",
    "Cannot do activities that make pain worse",
    "Pain caused by work or a work accident",
    "Work aggravated my pain",
    "Have a compensation claim",
    "Work is too heavy",
    "Work makes or would make pain worse",
    "Work might harm my back",
    "Should not do regular work with present pain",
    "Cannot do normal work with present pain",
    "Cannot do normal work until pain is treated",
    "Not back to normal work within 3 months",
    "Never able to go back to that work",
)

DEFINITION = InstrumentDefinition(
    code="fabq",
    version="1.0.0",
    title="Fear-Avoidance Beliefs Questionnaire",
    recall_period=None,
    items=tuple(
        Item(f"q{number}", label, _AGREEMENT, scored=number not in _UNSCORED)
        for number, label in enumerate(_LABELS, start=1)
    ),
    total_rule="none",
    total_range=None,
    missing_rule=AllItemsRequired(
        "None published [NC]; project policy: all items of each subscale required (§18)."
    ),
    subscales=(
        Subscale(
            "physical_activity",
            ("q2", "q3", "q4", "q5"),
            f"FABQ-PA = items 2+3+4+5 (0-24) {WADDELL}",
            mcid=Mcid(points=Decimal(4), source="PA 4 points [P Monticone et al. 2020, PMID 32420712]"),
        ),
        Subscale(
            "work",
            ("q6", "q7", "q9", "q10", "q11", "q12", "q15"),
            f"FABQ-W = items 6+7+9+10+11+12+15 (0-42) {WADDELL}",
            mcid=Mcid(points=Decimal(7), source="W 7 points [P Monticone et al. 2020, PMID 32420712]"),
        ),
    ),
    # Prognostic cut-offs, not severity bands; kept as separate named flags with their source.
    # Other published cut-offs (PA >14, W >29, W >22; PMC2881572, PMC4893951) are not flags here.
    flags=(
        Flag(
            "physical_activity_above_15",
            (above("physical_activity", 15),),
            f"FABQ-PA >15 = high {SPRYPT}",
        ),
        Flag(
            "work_above_34",
            (above("work", 34),),
            f"FABQ-W >34 = high risk {SPRYPT}; usually attributed to Fritz & George 2002 [NC]",
        ),
    ),
    mcid=None,  # No total; MCIDs are per subscale.
    loinc=Loinc(source="None found [NC]."),
    licence="Listed as 'Free' by RehabMeasures [S]; formal terms [NC].",
    sources=(WADDELL, "[S RehabMeasures FABQ]", SPRYPT),
)
