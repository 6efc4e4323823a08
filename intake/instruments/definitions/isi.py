"""Insomnia Severity Index (ISI): docs/clinical-reference.md §13."""

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
    labelled_options,
)

VA = "[P VA My HealtheVet ISI page; S awell src/scores/isi]"

_SEVERITY = labelled_options("None", "Mild", "Moderate", "Severe", "Very severe")
_EXTENT = labelled_options("Not at all", "A little", "Somewhat", "Much", "Very much")

DEFINITION = InstrumentDefinition(
    code="isi",
    version="1.0.0",
    title="Insomnia Severity Index",
    recall_period="last 2 weeks (VA form; Mapi/awell say last month — use the licensed form's period)",
    items=(
        Item("q1", "Difficulty falling asleep", _SEVERITY),
        Item("q2", "Difficulty staying asleep", _SEVERITY),
        Item("q3", "Waking up too early", _SEVERITY),
        Item(
            "q4",
            "Satisfaction with current sleep",
            labelled_options(
                "Very satisfied", "Satisfied", "Moderately satisfied", "Dissatisfied", "Very dissatisfied"
            ),
        ),
        Item("q5", "Sleep problem noticeable to others", _EXTENT),
        Item("q6", "Worried or distressed about sleep", _EXTENT),
        Item("q7", "Sleep problem interferes with daily functioning", _EXTENT),
    ),
    total_rule="sum",
    total_range=(0, 28),
    missing_rule=AllItemsRequired(
        "None published; awell requires all 7 [S] (docs/clinical-reference.md §13)."
    ),
    bands=(
        Band("none", between("total", 0, 7), f"0-7 no clinically significant insomnia {VA}"),
        Band("subthreshold", between("total", 8, 14), f"8-14 subthreshold {VA}"),
        Band("moderate", between("total", 15, 21), f"15-21 clinical (moderate) {VA}"),
        Band("severe", between("total", 22, 28), f"22-28 clinical (severe) {VA}"),
    ),
    mcid=Mcid(
        points=Decimal(6),
        source="6-point reduction [P Yang et al. 2009 Curr Med Res Opin, PMID 19689221]",
        note=(
            "-8.4 points ≈ moderate improvement [P Morin 2011]; the case cut-off ≥10 "
            "(Morin 2011) is not a band."
        ),
    ),
    loinc=Loinc(source="None found [NC]."),
    licence=(
        "© Morin (1993, 1996, 2000, 2006), distributed by Mapi Research Trust; 'use with "
        "permission' — needs a licence [P eprovide.mapi-trust.org; P thoracic.org]."
    ),
    sources=(VA, "[P Morin 2011 Sleep 34:601]"),
)
