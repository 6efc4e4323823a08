"""Every instrument the service knows, in a stable order, looked up by its section 21 code."""

from __future__ import annotations

from intake.instruments.definition import InstrumentDefinition
from intake.instruments.definitions import (
    fabq,
    gad2,
    gad7,
    isi,
    nrs,
    odi,
    orebro_sf,
    pcs,
    peg,
    phq2,
    phq4,
    phq9,
    pss10,
    red_flags,
    rmdq,
    startback,
    tsk11,
    tsk17,
)
from intake.instruments.errors import InstrumentError

# The order of docs/clinical-reference.md §21 (also the order the API lists them in).
_DEFINITIONS: tuple[InstrumentDefinition, ...] = (
    startback.DEFINITION,
    phq9.DEFINITION,
    gad7.DEFINITION,
    phq2.DEFINITION,
    gad2.DEFINITION,
    phq4.DEFINITION,
    odi.DEFINITION,
    rmdq.DEFINITION,
    peg.DEFINITION,
    nrs.DEFINITION,
    orebro_sf.DEFINITION,
    pcs.DEFINITION,
    fabq.DEFINITION,
    tsk17.DEFINITION,
    tsk11.DEFINITION,
    isi.DEFINITION,
    pss10.DEFINITION,
    red_flags.DEFINITION,
)

_BY_CODE: dict[str, InstrumentDefinition] = {definition.code: definition for definition in _DEFINITIONS}


def all_instruments() -> tuple[InstrumentDefinition, ...]:
    """All definitions, always in the same order."""
    return _DEFINITIONS


def get(code: str) -> InstrumentDefinition:
    """The definition for `code`; InstrumentError if the code is unknown."""
    try:
        return _BY_CODE[code]
    except (KeyError, TypeError):
        raise InstrumentError(
            f"Unknown instrument {code!r}; known instruments: {', '.join(_BY_CODE)}.",
            instrument=code if isinstance(code, str) else None,
        ) from None
