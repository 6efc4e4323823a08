"""Patient Health Questionnaire-9 (PHQ-9), incl. item 9 handling: docs/clinical-reference.md §2."""

from __future__ import annotations

from decimal import Decimal

from intake.instruments.definition import (
    Band,
    Condition,
    Flag,
    InstrumentDefinition,
    Item,
    Loinc,
    Mcid,
    Option,
    ProrateUpTo,
    at_least,
    between,
)
from intake.instruments.definitions.answer_lists import PHQ_FAMILY_LICENCE, PHQ_FREQUENCY

SEVERITY = "[P Kroenke 2001 via https://loinc.org/LL382-3]"

# Full wording (public domain), as in the LOINC-coded LHC-Forms PHQ-9; LOINC item codes
# [P https://loinc.org/69729-2; LHC-Forms 44249-1].
ITEMS = (
    Item(
        "q1",
        "Little interest or pleasure",
        PHQ_FREQUENCY,
        text="Little interest or pleasure in doing things",
        loinc="44250-9",
    ),
    Item(
        "q2",
        "Down, depressed or hopeless",
        PHQ_FREQUENCY,
        text="Feeling down, depressed, or hopeless",
        loinc="44255-8",
    ),
    Item(
        "q3",
        "Sleep problems",
        PHQ_FREQUENCY,
        text="Trouble falling or staying asleep, or sleeping too much",
        loinc="44259-0",
    ),
    Item(
        "q4",
        "Tired or little energy",
        PHQ_FREQUENCY,
        text="Feeling tired or having little energy",
        loinc="44254-1",
    ),
    Item(
        "q5",
        "Appetite",
        PHQ_FREQUENCY,
        text="Poor appetite or overeating",
        loinc="44251-7",
    ),
    Item(
        "q6",
        "Feeling bad about self",
        PHQ_FREQUENCY,
        text=(
            "Feeling bad about yourself — or that you are a failure or have let yourself or your family down"
        ),
        loinc="44258-2",
    ),
    Item(
        "q7",
        "Trouble concentrating",
        PHQ_FREQUENCY,
        text="Trouble concentrating on things, such as reading the newspaper or watching television",
        loinc="44252-5",
    ),
    Item(
        "q8",
        "Slowed or restless",
        PHQ_FREQUENCY,
        text=(
            "Moving or speaking so slowly that other people could have noticed? Or the opposite — "
            "being so fidgety or restless that you have been moving around a lot more than usual"
        ),
        loinc="44253-3",
    ),
    Item(
        "q9",
        "Thoughts of death or self-harm",
        PHQ_FREQUENCY,
        text="Thoughts that you would be better off dead or of hurting yourself in some way",
        loinc="44260-8",
    ),
    Item(
        "q10",
        "Difficulty caused by these problems",
        (
            # LOINC answer list LL359-1 as coded in the LHC-Forms PHQ-9 (note LA6575-0 is
            # "Very difficult" and LA6574-3 "Extremely difficult").
            Option(0, "Not difficult at all", loinc="LA6572-7"),
            Option(1, "Somewhat difficult", loinc="LA6573-5"),
            Option(2, "Very difficult", loinc="LA6575-0"),
            Option(3, "Extremely difficult", loinc="LA6574-3"),
        ),
        text=(
            "If you checked off any problems, how difficult have these problems made it for you to "
            "do your work, take care of things at home, or get along with other people?"
        ),
        # Not scored [S awell phq_9/README.md; LOINC 69722-7]; optional.
        scored=False,
        loinc="69722-7",
    ),
)

DEFINITION = InstrumentDefinition(
    code="phq9",
    version="1.0.0",
    title="Patient Health Questionnaire-9 (PHQ-9)",
    recall_period="last 2 weeks",
    items=ITEMS,
    total_rule="sum",
    total_range=(0, 27),
    missing_rule=ProrateUpTo(
        max_missing=2,
        source=(
            "1-2 of items 1-9 missing → sum x 9 / answered, rounded; ≥3 missing → not scorable "
            "[S APA DSM-5 PHQ-A adapted instructions; Arrieta 2017 via qscorer]. Applying the "
            "adolescent rule to adults is an extrapolation; ties (e.g. 4.5) round half up "
            "(project policy, docs/clinical-reference.md §2, §19 trap 10)."
        ),
    ),
    bands=(
        Band("minimal", between("total", 0, 4), SEVERITY),
        Band("mild", between("total", 5, 9), SEVERITY),
        Band("moderate", between("total", 10, 14), SEVERITY),
        Band("moderately_severe", between("total", 15, 19), SEVERITY),
        Band("severe", between("total", 20, 27), SEVERITY),
    ),
    flags=(
        # Any response ≥1 raises the flag independent of the total
        # [P Simon et al. 2013 Psychiatr Serv; VHA data, Psychiatr Serv 2016].
        Flag(
            "suicidal_ideation",
            (at_least("q9", 1),),
            "[P Simon 2013 https://ps.psychiatryonline.org/doi/10.1176/appi.ps.201200587]",
        ),
        # A blank item 9 is never read as 0 (project policy, docs/clinical-reference.md §2).
        Flag(
            "item9_unanswered",
            (Condition("q9", "unanswered"),),
            "project policy (docs/clinical-reference.md §2): item 9 unanswered → 'item 9 not answered' task",
        ),
    ),
    mcid=Mcid(
        points=Decimal(5),
        source="5 points for individual change (2 x SEM) [P Löwe et al. 2004 Med Care]",
        note=(
            "An alternative ~20% reduction (-1.7 points) at moderate baseline severity "
            "[P Psychol Med 2022, PMC9340848] is a group-level estimate and is not used for the verdict."
        ),
    ),
    loinc=Loinc(
        panel="44249-1",
        total="44261-6",
        source="[P https://loinc.org/69729-2; LHC-Forms Questionnaire 44249-1]",
    ),
    licence=PHQ_FAMILY_LICENCE,
    sources=(
        SEVERITY,
        "[P LOINC 44249-1 via packages2.fhir.org/xig Questionnaire/44249-1]",
        "[P https://loinc.org/LL358-3]",
    ),
    notes=(
        "LOINC 44261-6 prints '1-4 = Minimal'; 0 is also minimal (docs/clinical-reference.md §19 trap 2).",
        "Item 9 is not a complete suicide-risk screen: most suicides occurred in people answering "
        "'not at all' [P Psychiatr Serv 2016].",
    ),
)
