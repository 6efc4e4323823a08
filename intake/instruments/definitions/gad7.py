"""Generalized Anxiety Disorder-7 (GAD-7): docs/clinical-reference.md §3."""

from __future__ import annotations

from decimal import Decimal

from intake.instruments.definition import (
    AllItemsRequired,
    Band,
    Flag,
    InstrumentDefinition,
    Item,
    Loinc,
    Mcid,
    at_least,
    between,
)
from intake.instruments.definitions.answer_lists import PHQ_FAMILY_LICENCE, PHQ_FREQUENCY

SEVERITY = "[P Spitzer 2006; S awell GAD_7/README.md; camcops gad7.rst]"

# Full wording (public domain); LOINC item codes [P loinc.org/69729-2; HL7 PHR IG].
ITEMS = (
    Item(
        "q1",
        "Nervous, anxious or on edge",
        PHQ_FREQUENCY,
        text="Feeling nervous, anxious, or on edge",
        loinc="69725-0",
    ),
    Item(
        "q2",
        "Can't stop or control worrying",
        PHQ_FREQUENCY,
        text="Not being able to stop or control worrying",
        loinc="68509-9",
    ),
    Item(
        "q3",
        "Worrying too much",
        PHQ_FREQUENCY,
        text="Worrying too much about different things",
        loinc="69733-4",
    ),
    Item("q4", "Trouble relaxing", PHQ_FREQUENCY, text="Trouble relaxing", loinc="69734-2"),
    Item(
        "q5",
        "Restless",
        PHQ_FREQUENCY,
        text="Being so restless that it is hard to sit still",
        loinc="69735-9",
    ),
    Item(
        "q6",
        "Easily annoyed or irritable",
        PHQ_FREQUENCY,
        text="Becoming easily annoyed or irritable",
        loinc="69689-8",
    ),
    Item(
        "q7",
        "Afraid something awful might happen",
        PHQ_FREQUENCY,
        text="Feeling afraid, as if something awful might happen",
        loinc="69736-7",
    ),
)

DEFINITION = InstrumentDefinition(
    code="gad7",
    version="1.0.0",
    title="Generalized Anxiety Disorder-7 (GAD-7)",
    recall_period="last 2 weeks",
    items=ITEMS,
    total_rule="sum",
    total_range=(0, 21),
    missing_rule=AllItemsRequired(
        "None published [NC]; project policy: all 7 items required (docs/clinical-reference.md §3, §18)."
    ),
    bands=(
        Band("minimal", between("total", 0, 4), SEVERITY),
        Band("mild", between("total", 5, 9), SEVERITY),
        Band("moderate", between("total", 10, 14), SEVERITY),
        Band("severe", between("total", 15, 21), SEVERITY),
    ),
    flags=(
        Flag(
            "further_evaluation",
            (at_least("total", 10),),
            "≥10 → further evaluation (sens 89%, spec 82%) [P Spitzer 2006]",
        ),
    ),
    mcid=Mcid(
        points=Decimal(4),
        source="4 points [P Toussaint et al. 2020 J Affect Disord, PMID 32090765]",
        note="~27% / -1.5 points at moderate baseline [P Psychol Med 2022] is not used for the verdict.",
    ),
    loinc=Loinc(panel="69737-5", total="70274-6", source="[P loinc.org/69729-2; HL7 PHR IG]"),
    licence=PHQ_FAMILY_LICENCE,
    sources=(SEVERITY, "[P https://loinc.org/69729-2]"),
)
