"""PHQ-4 (GAD-2 + PHQ-2): docs/clinical-reference.md §4."""

from __future__ import annotations

from dataclasses import replace

from intake.instruments.definition import (
    AllItemsRequired,
    Band,
    Flag,
    InstrumentDefinition,
    Loinc,
    Subscale,
    at_least,
    between,
)
from intake.instruments.definitions.answer_lists import PHQ_FAMILY_LICENCE
from intake.instruments.definitions.gad7 import ITEMS as GAD7_ITEMS
from intake.instruments.definitions.phq9 import ITEMS as PHQ9_ITEMS

NINDS = "[P NINDS CDE F2495 citing Kroenke 2009 Psychosomatics 50:613]"

DEFINITION = InstrumentDefinition(
    code="phq4",
    version="1.0.0",
    title="Patient Health Questionnaire-4 (PHQ-4)",
    recall_period="last 2 weeks",
    # q1-q2 = GAD-2 (anxiety), q3-q4 = PHQ-2 (depression), same questions and LOINC codes.
    items=(
        replace(GAD7_ITEMS[0], id="q1"),
        replace(GAD7_ITEMS[1], id="q2"),
        replace(PHQ9_ITEMS[0], id="q3"),
        replace(PHQ9_ITEMS[1], id="q4"),
    ),
    total_rule="sum",
    total_range=(0, 12),
    missing_rule=AllItemsRequired("None published; require all items (docs/clinical-reference.md §4, §18)."),
    subscales=(
        Subscale("anxiety", ("q1", "q2"), NINDS),
        Subscale("depression", ("q3", "q4"), NINDS),
    ),
    bands=(
        Band("normal", between("total", 0, 2), NINDS),
        Band("mild", between("total", 3, 5), NINDS),
        Band("moderate", between("total", 6, 8), NINDS),
        Band("severe", between("total", 9, 12), NINDS),
    ),
    flags=(
        Flag("anxiety_positive", (at_least("anxiety", 3),), f"subscale ≥3 positive {NINDS}"),
        Flag("depression_positive", (at_least("depression", 3),), f"subscale ≥3 positive {NINDS}"),
    ),
    mcid=None,
    loinc=Loinc(
        panel="69724-3",
        total="70272-0",
        source=(
            "total 70272-0 [S healthassure.in]; panel 69724-3 [S LHC-Forms-based code "
            "repositories; not confirmed on loinc.org]"
        ),
    ),
    licence=PHQ_FAMILY_LICENCE,
    sources=(NINDS, "[S awell src/scores/phq_4]"),
)
