"""Change between two scorings of the same instrument, judged against its published MCID.

Lower is better on every instrument here. The verdict rules (project policy, on the MCIDs of
docs/clinical-reference.md §0–§14):

- `improved`: the score fell by at least the MCID in points, or, where the source also gives a
  percentage (Ostelo 2008 "10 points or 30%"), fell by at least that percentage of baseline —
  meeting either threshold is enough.
- `worsened`: the mirror image (rose by at least the points, or by at least the percentage).
  Ostelo's 30% is defined for improvement; applying it to worsening is an extrapolation.
- `no_reliable_change`: neither.
- `None`: the instrument (or subscale) has no published MCID (STarT Back, PHQ-2/GAD-2/PHQ-4,
  Örebro, PSS-10, TSK subscales, red flags …). The numbers are still reported.

The percentage criterion is skipped when the baseline is 0 (relative change undefined).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Literal

from intake.instruments.definition import Mcid
from intake.instruments.errors import InstrumentError
from intake.instruments.registry import get
from intake.instruments.result import Score, ScoreResult
from intake.instruments.scorer import to_decimal

Verdict = Literal["improved", "worsened", "no_reliable_change"]

# Reported Decimal totals are rationals with small denominators (ODI ≤ 9, PEG 3); a 28-digit
# Decimal identifies such a rational uniquely, so it is recovered exactly before subtracting.
# Decimals with up to 6 decimal places (e.g. stored "35.56") are taken exactly as they are.
_LARGEST_DENOMINATOR = 10**6


@dataclass(frozen=True)
class Change:
    """Follow-up minus baseline on one scale ("total" or a subscale name)."""

    instrument: str
    scale: str
    baseline: Score
    followup: Score
    absolute: Score
    """followup - baseline: negative means the score fell (better)."""
    relative_percent: Decimal | None
    """absolute / baseline x 100, exact; None when the baseline is 0."""
    verdict: Verdict | None
    """None when no MCID is published for this scale."""
    mcid: Mcid | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values; Decimals as strings with two decimal places (half up)."""
        return {
            "instrument": self.instrument,
            "scale": self.scale,
            "baseline": _json(self.baseline),
            "followup": _json(self.followup),
            "absolute": _json(self.absolute),
            "relative_percent": _json(self.relative_percent),
            "verdict": self.verdict,
        }


def change(code: str, baseline: ScoreResult, followup: ScoreResult, *, scale: str = "total") -> Change:
    """The change from `baseline` to `followup` with a verdict from the instrument's MCID.

    `scale` selects the total (default) or a subscale (FABQ has no total: pass
    "physical_activity" or "work"). Raises InstrumentError when either result belongs to another
    instrument or has no value on that scale (not scorable / subscale incomplete).
    """
    definition = get(code)
    for result in (baseline, followup):
        if result.instrument != code:
            raise InstrumentError(f"{code}: cannot compare a {result.instrument!r} result.", instrument=code)

    if scale == "total":
        mcid = definition.mcid
        if definition.total_rule == "none":
            names = ", ".join(subscale.name for subscale in definition.subscales)
            raise InstrumentError(f"{code} has no total; compare a subscale ({names}).", instrument=code)
    else:
        subscales = {subscale.name: subscale for subscale in definition.subscales}
        if scale not in subscales:
            raise InstrumentError(f"{code} has no scale {scale!r}.", instrument=code)
        mcid = subscales[scale].mcid

    before = _value(baseline, scale)
    after = _value(followup, scale)
    exact_before, exact_after = _exact(before), _exact(after)
    difference = exact_after - exact_before
    relative = difference * 100 / exact_before if exact_before != 0 else None

    absolute: Score
    if isinstance(before, int) and isinstance(after, int):
        absolute = after - before
    else:
        absolute = to_decimal(difference)

    return Change(
        instrument=code,
        scale=scale,
        baseline=before,
        followup=after,
        absolute=absolute,
        relative_percent=None if relative is None else to_decimal(relative),
        verdict=None if mcid is None else _verdict(mcid, difference, relative),
        mcid=mcid,
    )


def _verdict(mcid: Mcid, difference: Fraction, relative: Fraction | None) -> Verdict:
    points = None if mcid.points is None else Fraction(mcid.points)
    percent = None if mcid.percent is None else Fraction(mcid.percent)

    def meets(amount: Fraction, share: Fraction | None) -> bool:
        by_points = points is not None and amount >= points
        by_percent = percent is not None and share is not None and share >= percent
        return by_points or by_percent

    if meets(-difference, None if relative is None else -relative):
        return "improved"
    if meets(difference, relative):
        return "worsened"
    return "no_reliable_change"


def _value(result: ScoreResult, scale: str) -> Score:
    value = result.total if scale == "total" else result.subscales.get(scale)
    if value is None or (scale == "total" and not result.scorable):
        raise InstrumentError(
            f"{result.instrument}: the {scale} is not available (not scorable); no change can be computed.",
            instrument=result.instrument,
        )
    return value


def _exact(value: Score) -> Fraction:
    if isinstance(value, Decimal):
        return Fraction(value).limit_denominator(_LARGEST_DENOMINATOR)
    return Fraction(value)


def _json(value: Score | None) -> int | str | None:
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    return value
