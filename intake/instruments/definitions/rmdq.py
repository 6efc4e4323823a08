"""Roland-Morris Disability Questionnaire (RMDQ-24): docs/clinical-reference.md §6."""

from __future__ import annotations

from decimal import Decimal

from intake.instruments.definition import (
    BlanksScoreZero,
    InstrumentDefinition,
    Item,
    Loinc,
    Mcid,
    Option,
)

_TICK = (Option(0, "Not ticked"), Option(1, "Ticked (applies today)"))

# Short paraphrased labels of the 24 statements (each "because of my back"); the wording of the
# licensed form is not reproduced. [NC: paraphrases written for this service — check against the form.]
_LABELS = (
    "Stays at home most of the time",
    "Changes position frequently",
    "Walks more slowly",
    "Not doing usual jobs around the house",
    "Uses a handrail to get upstairs",
    "Lies down to rest more often",
    "Holds on to something to get out of an easy chair",
    "Gets other people to do things",
    "Dresses more slowly",
    "Stands only for short periods",
    "Tries not to bend or kneel",
    "Difficulty getting out of a chair",
    "Back painful almost all the time",
    "Difficulty turning over in bed",
    "Appetite not very good",
    "Trouble putting on socks or stockings",
    "Walks only short distances",
    "Sleeps less well",
    "Gets dressed with help",
    "Sits down for most of the day",
    "Avoids heavy jobs around the house",
    "More irritable or bad-tempered",
    "Goes upstairs more slowly",
    "Stays in bed most of the time",
)

DEFINITION = InstrumentDefinition(
    code="rmdq",
    version="1.0.0",
    title="Roland-Morris Disability Questionnaire (24 items)",
    recall_period="today",
    items=tuple(Item(f"q{number}", label, _TICK) for number, label in enumerate(_LABELS, start=1)),
    # 1 point per ticked statement, 0-24; no reverse items, no subscales, no official bands
    # (≤2 ≈ "recovered", Kamper 2010, is not a band) [P Roland & Morris 1983; P Kamper 2010].
    total_rule="sum",
    total_range=(0, 24),
    missing_rule=BlanksScoreZero(
        "'There is no standard method' for unanswered RMDQ items [P Kent & Lauridsen]; checklist "
        "semantics: an unticked line = 0, blanks are listed "
        "(project policy, docs/clinical-reference.md §6, §18)."
    ),
    mcid=Mcid(
        points=Decimal(5),
        percent=Decimal(30),
        source="5 points or 30% [P Ostelo et al. 2008 Spine]",
    ),
    loinc=Loinc(source="None found [NC]."),
    licence=(
        "Roland & Fairbank 2000: no permission needed when used in the published form [S studylib]; "
        "current commercial/electronic terms [NC]."
    ),
    sources=(
        "[P Roland & Morris 1983]",
        "[S scientificspine.com RDQ scoring]",
        "[P Kent & Lauridsen, managing missing scores on the RMDQ]",
    ),
)
