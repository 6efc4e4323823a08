"""Pain Catastrophizing Scale (PCS): docs/clinical-reference.md §10."""

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
    at_least,
    labelled_options,
)

SUBSCALES = "[S awell src/scores/pcs/definition/pcs_scales.ts; RehabMeasures PCS]"

_DEGREE = labelled_options(
    "Not at all", "To a slight degree", "To a moderate degree", "To a great degree", "All the time"
)

# Short paraphrases; the statements are © Sullivan.
_LABELS = (
    "Worry whether the pain will end",
    "Feel I can't go on",
    "Terrible, never going to get better",
    "Awful, overwhelms me",
    "Can't stand it anymore",
    "Afraid the pain will get worse",
    "Think of other painful events",
    "Anxiously want the pain to go away",
    "Can't keep it out of my mind",
    "Keep thinking how much it hurts",
    "Keep thinking how badly I want it to stop",
    "Nothing I can do to reduce it",
    "Wonder whether something serious may happen",
)

DEFINITION = InstrumentDefinition(
    code="pcs",
    version="1.0.0",
    title="Pain Catastrophizing Scale",
    recall_period="when in pain (no fixed recall period)",
    items=tuple(Item(f"q{number}", label, _DEGREE) for number, label in enumerate(_LABELS, start=1)),
    total_rule="sum",
    total_range=(0, 52),
    missing_rule=AllItemsRequired("None found [NC]; project policy: all items required (§18)."),
    subscales=(
        Subscale("rumination", ("q8", "q9", "q10", "q11"), SUBSCALES),
        Subscale("magnification", ("q6", "q7", "q13"), SUBSCALES),
        Subscale("helplessness", ("q1", "q2", "q3", "q4", "q5", "q12"), SUBSCALES),
    ),
    flags=(
        # The manual's 75th percentile is phrased both "30 or above" and "above 30"; project
        # policy ≥30 until confirmed against the manual (docs/clinical-reference.md §10, §19 trap 7) [NC].
        Flag(
            "clinically_relevant",
            (at_least("total", 30),),
            "≥30 ≈ 75th percentile, clinically relevant (PCS User Manual, Sullivan 2009) "
            "[S sprypt.com; RehabMeasures says 'above 30'] — project policy ≥30 [NC]",
        ),
    ),
    mcid=Mcid(
        points=Decimal(8),
        source="8 points (95% CI 6-10) [P Monticone et al. 2022 Eur J Phys Rehabil Med, PMID 34042409]",
        note="11 points for baseline catastrophisers (>30) — not applied automatically.",
    ),
    loinc=Loinc(source="None found [NC]."),
    licence=("Manual © Sullivan 1995-2009; listed as free by RehabMeasures; commercial terms [NC]."),
    sources=(SUBSCALES, "[S help.matassessment.com PCS]"),
)
