"""Numeric pain Rating Scale 0-10 (NRS): docs/clinical-reference.md §8."""

from __future__ import annotations

from decimal import Decimal

from intake.instruments.definition import (
    AllItemsRequired,
    Band,
    InstrumentDefinition,
    Item,
    Loinc,
    Mcid,
    between,
    numbered_options,
)

# Default band scheme (docs/clinical-reference.md §21): Boonstra 2016, 2854 chronic musculoskeletal
# pain patients: ≤5 mild, 6-7 moderate, ≥8 severe [P Front Psychol 2016, PMC5043012].
# Alternatives (Serlin 1995 / Jensen 1999: 1-4 / 5-6 / 7-10) would be a new definition version.
BOONSTRA = "[P Boonstra et al. 2016 Front Psychol, PMC5043012]"

DEFINITION = InstrumentDefinition(
    code="nrs",
    version="1.0.0",
    title="Numeric Pain Rating Scale (0-10)",
    recall_period=None,
    items=(
        Item(
            "pain",
            "Pain intensity",
            numbered_options(0, 10, {0: "No pain", 10: "Worst pain imaginable"}),
            kind="scale",
            text=(
                "On a scale from 0 (no pain) to 10 (worst pain imaginable), "
                "which number best describes your pain?"
            ),
            loinc="72514-3",
        ),
    ),
    total_rule="sum",
    total_range=(0, 10),
    missing_rule=AllItemsRequired("Single item: missing = not scorable (docs/clinical-reference.md §8)."),
    bands=(
        Band("none", between("total", 0, 0), f"0 = no pain {BOONSTRA}"),
        Band("mild", between("total", 1, 5), f"≤5 mild {BOONSTRA}"),
        Band("moderate", between("total", 6, 7), f"6-7 moderate {BOONSTRA}"),
        Band("severe", between("total", 8, 10), f"≥8 severe {BOONSTRA}"),
    ),
    mcid=Mcid(
        points=Decimal(2),
        percent=Decimal(30),
        source="2 points or 30% [P Ostelo et al. 2008 Spine]; ΔNRS ≥2 in chronic LBP [P PMC7053735]",
    ),
    loinc=Loinc(
        total="72514-3",
        source="[P LOINC 72514-3 'Pain severity - 0-10 verbal numeric rating [Score] - Reported']",
    ),
    licence="Public domain (generic scale).",
    sources=(BOONSTRA, "[P LOINC 72514-3]"),
    notes=("Band scheme: boonstra_2016_chronic_msk (docs/clinical-reference.md §21 default).",),
)
