"""PEG (Pain, Enjoyment of life, General activity): docs/clinical-reference.md §7."""

from __future__ import annotations

from decimal import Decimal

from intake.instruments.definition import (
    AllItemsRequired,
    InstrumentDefinition,
    Item,
    Loinc,
    Mcid,
    numbered_options,
)

KREBS = "[P Krebs et al. 2009 J Gen Intern Med 24:733]"

_INTERFERENCE = numbered_options(0, 10, {0: "Does not interfere", 10: "Completely interferes"})

DEFINITION = InstrumentDefinition(
    code="peg",
    version="1.0.0",
    title="PEG three-item pain scale",
    recall_period="past week",
    items=(
        Item(
            "p",
            "Average pain",
            numbered_options(0, 10, {0: "No pain", 10: "Pain as bad as you can imagine"}),
            kind="scale",
            text="What number best describes your pain on average in the past week?",
            loinc="75893-8",
        ),
        Item(
            "e",
            "Interference with enjoyment of life",
            _INTERFERENCE,
            kind="scale",
            text=(
                "What number best describes how, during the past week, pain has interfered with "
                "your enjoyment of life?"
            ),
            loinc="91145-3",
        ),
        Item(
            "g",
            "Interference with general activity",
            _INTERFERENCE,
            kind="scale",
            text=(
                "What number best describes how, during the past week, pain has interfered with "
                "your general activity?"
            ),
            loinc="91146-1",
        ),
    ),
    # Mean of the three items, exact (LOINC 91147-9 advises rounding to a whole number for
    # clinical display only). No bands: third-party 0-3.9/4-6.9/7-10 are not from Krebs.
    total_rule="mean",
    total_range=(0, 10),
    missing_rule=AllItemsRequired(
        "None defined; project policy: all 3 required (docs/clinical-reference.md §7)."
    ),
    mcid=Mcid(
        points=Decimal("1.0"),
        source=(
            "Anchor-based estimates mostly 1.0-1.75 points [P Reed et al. 2023 J Pain, PMC10859144]; "
            "project policy uses the lower end, 1.0."
        ),
    ),
    loinc=Loinc(
        panel="91148-7",
        total="91147-9",
        source="[S open-source FHIR questionnaires; CDS4CPM IG; P LOINC 91147-9 description]",
    ),
    licence="Described as freely available in the public domain [S]; not confirmed with the authors [NC].",
    sources=(KREBS, "[P Reed et al. 2023 PMC10859144]"),
)
