"""Oswestry Disability Index 2.1a (ODI): docs/clinical-reference.md §5."""

from __future__ import annotations

from decimal import Decimal

from intake.instruments.definition import (
    Band,
    InstrumentDefinition,
    Item,
    Loinc,
    Mcid,
    Option,
    ScoreAnsweredItems,
    above,
    at_most,
)

FAIRBANK = "[P Fairbank, https://www.mapi-trust.org/news-events/news/the-oswestry-disability-i]"

# Six statements per section, first = 0 … last = 5. The statements are copyrighted: labels only.
_STATEMENTS = (
    Option(0, "Statement 1 of 6 (least limitation)"),
    Option(1, "Statement 2 of 6"),
    Option(2, "Statement 3 of 6"),
    Option(3, "Statement 4 of 6"),
    Option(4, "Statement 5 of 6"),
    Option(5, "Statement 6 of 6 (most limitation)"),
)

_SECTIONS = (
    ("s1", "Pain intensity"),
    ("s2", "Personal care"),
    ("s3", "Lifting"),
    ("s4", "Walking"),
    ("s5", "Sitting"),
    ("s6", "Standing"),
    ("s7", "Sleeping"),
    ("s8", "Sex life (if applicable)"),
    ("s9", "Social life"),
    ("s10", "Travelling"),
)

DEFINITION = InstrumentDefinition(
    code="odi",
    version="1.0.0",
    title="Oswestry Disability Index 2.1a",
    recall_period="today",
    items=tuple(
        Item(
            section_id,
            label,
            _STATEMENTS,
            note="On paper, two boxes ticked → enter the higher-scoring one [P Fairbank].",
        )
        for section_id, label in _SECTIONS
    ),
    # index = sum / (5 x sections answered) x 100, exact (16/50 = 32%; 16/45 = 35.56%).
    total_rule="percent_of_maximum",
    total_range=(0, 100),
    missing_rule=ScoreAnsweredItems(
        min_answered=1,
        source=(
            "'In theory, only a single response in a single section is required to give an ODI "
            f"score' {FAIRBANK} — no official minimum number of sections."
        ),
    ),
    # Fairbank bands 0-20 … 81-100; a partial ODI can be non-integer (22.22, 35.56), so the
    # boundaries are read as ≤20, >20-40, >40-60, >60-80, >80 (project convention, §5).
    bands=(
        Band("minimal", (at_most("total", 20),), f"0-20% minimal {FAIRBANK}"),
        Band("moderate", (above("total", 20), at_most("total", 40)), f"21-40% moderate {FAIRBANK}"),
        Band("severe", (above("total", 40), at_most("total", 60)), f"41-60% severe {FAIRBANK}"),
        Band("crippled", (above("total", 60), at_most("total", 80)), f"61-80% crippled {FAIRBANK}"),
        Band(
            "bed_bound",
            (above("total", 80),),
            f"81-100% bed-bound or exaggerating {FAIRBANK}",
        ),
    ),
    mcid=Mcid(
        points=Decimal(10),
        percent=Decimal(30),
        source="10 points (0-100) or 30% improvement from baseline [P Ostelo et al. 2008 Spine]",
        note="Mannion 2005: 18% ≈ 8 points after surgery (not used).",
    ),
    loinc=Loinc(
        panel="97908-8",
        total="97909-6",
        source=(
            "[P https://loinc.org/97909-6]; its 0-50 raw interpretation bands are NOT ODI bands "
            "(docs/clinical-reference.md §19 trap 3)"
        ),
    ),
    licence=(
        "ODI © Jeremy Fairbank, 1980. All Rights Reserved. Distributed by Mapi Research Trust "
        "(ePROVIDE); fees may apply for healthcare organisations, commercial users and IT companies "
        "— obtain a Mapi licence before shipping ODI text [P eprovide.mapi-trust.org; S sralab.org]."
    ),
    sources=(FAIRBANK, "[P eprovide.mapi-trust.org/odi-oswestry-disability-index]"),
)
