"""Keele STarT Back Screening Tool (SBST, 9 items): docs/clinical-reference.md §1."""

from __future__ import annotations

from intake.instruments.definition import (
    AllItemsRequired,
    Band,
    InstrumentDefinition,
    Item,
    Loinc,
    Option,
    Subscale,
    at_least,
    at_most,
)

KEELE = "[P http://www.keele.ac.uk/sbst/usingscoringthesbst/]"

_AGREEMENT = (Option(0, "Disagree"), Option(1, "Agree"))

# Short labels only: the form is © Keele University and may not be modified.
# Item order is the Keele form / LOINC 91349-1 order [P https://loinc.org/91349-1].
_STATEMENTS = (
    ("q1", "Back pain spread down leg(s)", "91340-0"),
    ("q2", "Shoulder or neck pain", "91341-8"),
    ("q3", "Only walked short distances", "91342-6"),
    ("q4", "Dressed more slowly", "91343-4"),
    ("q5", "Not safe to be physically active (fear)", "91344-2"),
    ("q6", "Worrying thoughts a lot (anxiety)", "91345-9"),
    ("q7", "Pain terrible, will never improve (catastrophising)", "91346-7"),
    ("q8", "Not enjoyed usual things (low mood)", "91347-5"),
)

DEFINITION = InstrumentDefinition(
    code="startback",
    version="1.0.0",
    title="Keele STarT Back Screening Tool",
    recall_period="last 2 weeks",
    items=(
        *(Item(item_id, label, _AGREEMENT, loinc=code) for item_id, label, code in _STATEMENTS),
        Item(
            "q9",
            "Overall bothersomeness",
            (
                Option(0, "Not at all"),
                Option(1, "Slightly"),
                Option(2, "Moderately"),
                Option(3, "Very much"),
                Option(4, "Extremely"),
            ),
            # Only "very much" / "extremely" are positive [P Keele scoring page; S awell
            # start_back_screening_tool.ts recodes 0,1,2→0 and 3,4→1].
            recode=((0, 0), (1, 0), (2, 0), (3, 1), (4, 1)),
            loinc="91348-3",
        ),
    ),
    total_rule="sum",
    total_range=(0, 9),
    missing_rule=AllItemsRequired(
        "No rule published by Keele [NC]; project policy: all 9 items required "
        "(docs/clinical-reference.md §1, §18)."
    ),
    subscales=(
        # Items 5-9 in the Keele order — NOT "1, 4, 7, 8, 9" (a different ordering used by
        # RehabMeasures/JOSPT; docs/clinical-reference.md §19 trap 1).
        Subscale(
            "psychosocial",
            ("q5", "q6", "q7", "q8", "q9"),
            f"{KEELE}; LOINC 91350-9 'sum of items 5 through 9' [P https://loinc.org/91350-9]",
            loinc="91350-9",
        ),
    ),
    bands=(
        Band("low", (at_most("total", 3),), f"total ≤3 → low {KEELE}", loinc="LA9194-7"),
        Band(
            "medium",
            (at_least("total", 4), at_most("psychosocial", 3)),
            f"total ≥4 and psychosocial ≤3 → medium {KEELE}",
            loinc="LA8982-6",
        ),
        Band(
            "high",
            (at_least("total", 4), at_least("psychosocial", 4)),
            f"psychosocial ≥4 → high (always implies total ≥4) {KEELE}",
            loinc="LA9193-9",
        ),
    ),
    mcid=None,  # Not applicable: a prognostic stratification tool, not an outcome measure (§1).
    loinc=Loinc(
        panel="91349-1",
        total="91351-7",
        band="91352-5",
        source="[P https://loinc.org/91349-1, /91350-9, /91352-5]",
    ),
    licence=(
        "© Keele University 2007. No licence is required for non-commercial use; incorporating the "
        "tool into commercial products requires contacting Keele University Impact Accelerator Unit. "
        "The tool may not be modified [P https://startback.hfac.keele.ac.uk/privacy-policy/]."
    ),
    sources=(
        KEELE,
        "[P https://loinc.org/91349-1]",
        "[S awell-health/awell-score src/scores/start_back_screening_tool/README.md]",
    ),
)
