"""The result of scoring one instrument: the contract every other part of the service reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Score = int | Decimal


@dataclass(frozen=True)
class ScoreResult:
    """A scored instrument. `total` is None when the instrument has no total or is not scorable."""

    instrument: str
    version: str
    total: Score | None
    subscales: dict[str, Score | None] = field(default_factory=dict)
    band: str | None = None
    flags: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    scorable: bool = True
    prorated: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values: Decimals become strings with two decimal places (exact, never floats)."""
        return {
            "instrument": self.instrument,
            "version": self.version,
            "total": _json_score(self.total),
            "subscales": {name: _json_score(value) for name, value in self.subscales.items()},
            "band": self.band,
            "flags": list(self.flags),
            "missing": list(self.missing),
            "scorable": self.scorable,
            "prorated": self.prorated,
        }


def _json_score(value: Score | None) -> int | str | None:
    if isinstance(value, Decimal):
        # Display rounding is half-up, never banker's (docs/clinical-reference.md §19, trap 10).
        return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    return value
