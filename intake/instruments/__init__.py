"""The instrument engine: published screening instruments as data, scored exactly.

Pure Python (no Django). Public interface:

    score(code, answers) -> ScoreResult
    get(code) -> InstrumentDefinition
    all_instruments() -> tuple[InstrumentDefinition, ...]
    change(code, baseline, followup, *, scale="total") -> Change
    InstrumentError (a ValueError with .instrument, .item, .allowed)
"""

from intake.instruments.change import Change, Verdict, change
from intake.instruments.definition import InstrumentDefinition, Item, Mcid, Option
from intake.instruments.errors import InstrumentError
from intake.instruments.registry import all_instruments, get
from intake.instruments.result import Score, ScoreResult
from intake.instruments.scorer import score

__all__ = [
    "Change",
    "InstrumentDefinition",
    "InstrumentError",
    "Item",
    "Mcid",
    "Option",
    "Score",
    "ScoreResult",
    "Verdict",
    "all_instruments",
    "change",
    "get",
    "score",
]
