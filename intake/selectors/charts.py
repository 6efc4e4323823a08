"""A patient's score history as chart geometry: one small SVG line chart per instrument, with the
instrument's band thresholds and the changes that reach its MCID (from `patient_trajectory`).

Only coordinates are computed here; the admin template draws them. Lower is better on every
instrument charted (intake.instruments.change).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from intake.instruments import InstrumentDefinition, InstrumentError, get
from intake.models import Patient

from .intakes import patient_trajectory

WIDTH, HEIGHT = 400, 160
LEFT, RIGHT, TOP, BOTTOM = 30, 118, 14, 28
# Red flags count positives; it is a screen, not an outcome to follow over time.
NOT_CHARTED = frozenset({"red_flags"})


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    total: str
    band: str
    date: str
    intake: str
    verdict: str | None  # change from the previous point vs MCID: improved / worsened / no_reliable_change
    change: str  # e.g. "-6" from the previous point, "" for the first
    # From the first charted point, as the trajectory computed it from the exact totals: the shown
    # totals are rounded (PEG 19/3 → 6.33), so subtracting them could differ in the last place.
    change_from_first: str


@dataclass(frozen=True)
class BandRegion:
    code: str
    y_top: float
    y_bottom: float
    label_y: float
    threshold: str  # e.g. "≥ 10"
    shade: int  # 0 lightest … 4 darkest

    @property
    def height(self) -> float:
        return self.y_bottom - self.y_top


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass
class InstrumentChart:
    code: str
    title: str
    range_low: int
    range_high: int
    mcid: str
    points: list[ChartPoint] = field(default_factory=list)
    bands: list[BandRegion] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    unscorable: int = 0
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_top: int = TOP
    plot_bottom: int = HEIGHT - BOTTOM

    @property
    def plot_width(self) -> int:
        return self.plot_right - self.plot_left

    @property
    def label_x(self) -> int:
        return self.plot_right + 6

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def latest(self) -> ChartPoint | None:
        return self.points[-1] if self.points else None

    @property
    def baseline_change(self) -> str:
        if len(self.points) < 2:
            return ""
        return self.points[-1].change_from_first


def patient_score_charts(*, patient: Patient) -> list[InstrumentChart]:
    """One chart per instrument the patient has a scorable total for, in battery order."""
    charts = []
    for code, series in patient_trajectory(patient=patient).items():
        if code in NOT_CHARTED:
            continue
        try:
            definition = get(code)
        except InstrumentError:
            continue
        if definition.total_range is None:
            continue  # no total (FABQ reports subscales only)
        chart = _chart(definition, series)
        if chart.points:
            charts.append(chart)
    order = {code: index for index, code in enumerate(("nrs", "peg", "odi", "rmdq", "startback", "phq9"))}
    return sorted(charts, key=lambda chart: (order.get(chart.code, 99), chart.code))


def _chart(definition: InstrumentDefinition, series: list[dict[str, Any]]) -> InstrumentChart:
    assert definition.total_range is not None
    low, high = definition.total_range
    mcid = definition.mcid
    mcid_text = ""
    if mcid is not None:
        parts = [
            f"{mcid.points} points" if mcid.points is not None else "",
            f"{mcid.percent}%" if mcid.percent else "",
        ]
        mcid_text = " or ".join(part for part in parts if part)
    chart = InstrumentChart(
        code=definition.code, title=definition.title, range_low=low, range_high=high, mcid=mcid_text
    )

    def y_of(value: Decimal) -> float:
        share = (value - low) / (high - low) if high != low else Decimal(0)
        return float(chart.plot_bottom - share * (chart.plot_bottom - chart.plot_top))

    scorable = [point for point in series if point["scorable"] and point["total"] is not None]
    chart.unscorable = len(series) - len(scorable)
    inset = 18  # keep the first and last points (and their labels) off the axes
    span = chart.plot_right - chart.plot_left - 2 * inset
    step = span / (len(scorable) - 1) if len(scorable) > 1 else 0
    for index, point in enumerate(scorable):
        total = Decimal(str(point["total"]))
        previous = point["change_from_previous"]
        baseline = point["change_from_baseline"]
        chart.points.append(
            ChartPoint(
                x=chart.plot_left + inset + (index * step if len(scorable) > 1 else span / 2),
                y=y_of(total),
                total=str(point["total"]),
                band=(point["band"] or "").replace("_", " "),
                date=point["completed_at"].strftime("%d %b %Y"),
                intake=point["intake"],
                verdict=previous["verdict"] if previous else None,
                change=_signed(Decimal(str(previous["absolute"]))) if previous else "",
                change_from_first=_signed(Decimal(str(baseline["absolute"]))) if baseline else "",
            )
        )
    chart.bands = _bands(definition, y_of)
    chart.ticks = [Tick(y=y_of(Decimal(value)), label=str(value)) for value in _tick_values(low, high)]
    return chart


def _bands(definition: InstrumentDefinition, y_of: Any) -> list[BandRegion]:
    """Regions of the bands decided on the total alone (STarT Back's medium/high also need the
    psychosocial subscale, so only what the total decides is drawn)."""
    assert definition.total_range is not None
    low, high = definition.total_range
    starts: list[tuple[Decimal, str, str]] = []  # (lower edge, code, range text)
    for band in definition.bands:
        if any(condition.subject != "total" for condition in band.when):
            continue
        lower = next((c for c in band.when if c.op in (">=", ">")), None)
        upper = next((c for c in band.when if c.op in ("<=", "<")), None)
        edge = Decimal(lower.value) if lower else Decimal(low)
        starts.append((edge, band.code, _range_text(lower, upper)))
    starts.sort()
    regions = []
    for index, (edge, code, threshold) in enumerate(starts):
        top = starts[index + 1][0] if index + 1 < len(starts) else Decimal(high)
        y_bottom, y_top = y_of(max(edge, Decimal(low))), y_of(min(top, Decimal(high)))
        regions.append(
            BandRegion(
                code=code.replace("_", " "),
                y_top=y_top,
                y_bottom=y_bottom,
                label_y=(y_top + y_bottom) / 2 + 4,
                threshold=threshold,
                shade=min(index, 4),
            )
        )
    return regions


def _range_text(lower: Any, upper: Any) -> str:
    """ "0–4", ">20–40", "≥ 20", "≤ 3": the band as its published table states it."""
    if lower is not None and upper is not None:
        if lower.value == upper.value:
            return str(lower.value)
        return f"{'>' if lower.op == '>' else ''}{lower.value}–{upper.value}"
    if lower is not None:
        return f"{'≥' if lower.op == '>=' else '>'} {lower.value}"
    if upper is not None:
        return f"{'≤' if upper.op == '<=' else '<'} {upper.value}"
    return ""


def _tick_values(low: int, high: int) -> list[int]:
    step = next(step for step in (1, 2, 5, 10, 20, 25) if (high - low) / step <= 5)
    ticks = list(range(low, high + 1, step))
    if high - ticks[-1] > step / 2:
        ticks.append(high)
    return ticks


def _signed(value: Decimal) -> str:
    text = f"{value.normalize():f}" if value != value.to_integral() else str(int(value))
    return f"+{text}" if value > 0 else text
