"""The one scorer: reads an instrument definition and turns raw answers into a ScoreResult.

Arithmetic is exact. A total is held as an integer numerator over an integer denominator (1 for
plain sums), bands and flags are decided on that exact value by integer cross-multiplication,
and only the reported total of a division (ODI, PEG) becomes a `Decimal` (28 significant digits,
half up). Where a rule rounds (PHQ-9 proration) it rounds half up, never with round().
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Context, Decimal
from fractions import Fraction
from typing import Final

from intake.instruments.definition import (
    AllItemsRequired,
    BlanksScoreZero,
    Condition,
    InstrumentDefinition,
    ProrateUpTo,
    ScoreAnsweredItems,
)
from intake.instruments.errors import InstrumentError
from intake.instruments.registry import all_instruments, get
from intake.instruments.result import Score, ScoreResult

# Totals that come from a division (ODI, PEG) are reported with the decimal module's default
# precision but a fixed half-up rounding, whatever the caller's thread context is.
DECIMAL_CONTEXT: Final = Context(prec=28, rounding=ROUND_HALF_UP)

# Compiled condition: (what it reads, subject, operator, threshold).
_TOTAL, _SUBSCALE, _ITEM = 0, 1, 2
_GE, _GT, _LE, _LT, _ANSWERED, _UNANSWERED = 0, 1, 2, 3, 4, 5
_OPS: Final = {">=": _GE, ">": _GT, "<=": _LE, "<": _LT, "answered": _ANSWERED, "unanswered": _UNANSWERED}
_Compiled = tuple[int, str, int, int]

# Missing-item rules, resolved once per definition.
_REQUIRE_ALL, _PRORATE, _ANSWERED_ONLY, _BLANKS_ZERO = 0, 1, 2, 3


def to_decimal(value: Fraction) -> Decimal:
    """An exact rational as a Decimal (exact when it terminates, else 28 significant digits)."""
    return DECIMAL_CONTEXT.divide(Decimal(value.numerator), Decimal(value.denominator))


def round_half_up(numerator: int, denominator: int) -> int:
    """Nearest integer to a non-negative numerator/denominator, ties up (4.5 → 5)."""
    return (2 * numerator + denominator) // (2 * denominator)


def _satisfied(
    conditions: tuple[_Compiled, ...],
    any_of: bool,
    numerator: int | None,
    denominator: int,
    subscales: Mapping[str, int | None],
    raw: Mapping[str, int],
) -> bool:
    """All (or any) conditions hold. A subject without a value only matches "unanswered"."""
    for kind, subject, op, threshold in conditions:
        value: int | None
        if kind == _TOTAL:
            # total = numerator / denominator, so compare numerator with threshold × denominator.
            value, limit = numerator, threshold * denominator
        elif kind == _SUBSCALE:
            value, limit = subscales[subject], threshold
        else:
            value, limit = raw.get(subject), threshold
        if op == _UNANSWERED:
            holds = value is None
        elif value is None:
            holds = False
        elif op == _GE:
            holds = value >= limit
        elif op == _GT:
            holds = value > limit
        elif op == _LE:
            holds = value <= limit
        elif op == _LT:
            holds = value < limit
        else:  # answered
            holds = True
        if holds is any_of:
            return any_of
    return not any_of


class _Plan:
    """A definition pre-digested for fast scoring (lookups precomputed once at import)."""

    def __init__(self, definition: InstrumentDefinition) -> None:
        self.definition = definition
        self.code = definition.code
        self.version = definition.version
        # item id → (raw value → scored value), with reversal and recoding applied once here.
        self.scores: dict[str, dict[int, int]] = {
            item.id: {raw: item.score_of(raw) for raw in item.values} for item in definition.items
        }
        self.yes_no: frozenset[str] = frozenset(item.id for item in definition.items if item.kind == "yes_no")
        self.scored_ids: tuple[str, ...] = tuple(item.id for item in definition.scored_items)
        self.item_maximum = max(
            (max(self.scores[item_id].values()) for item_id in self.scored_ids), default=0
        )
        self.scored_maps = tuple((item_id, self.scores[item_id]) for item_id in self.scored_ids)
        self.total_rule = definition.total_rule
        self.subscales: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
            (subscale.name, subscale.items) for subscale in definition.subscales
        )
        self.subscale_maps = tuple(
            (name, tuple((item_id, self.scores[item_id]) for item_id in item_ids))
            for name, item_ids in self.subscales
        )
        self.bands: tuple[tuple[str, tuple[_Compiled, ...]], ...] = tuple(
            (band.code, tuple(self._compile(condition) for condition in band.when))
            for band in definition.bands
        )
        self.flags: tuple[tuple[str, bool, tuple[_Compiled, ...]], ...] = tuple(
            (flag.code, flag.any_of, tuple(self._compile(condition) for condition in flag.when))
            for flag in definition.flags
        )
        rule = definition.missing_rule
        self.max_missing = 0
        self.min_answered = len(self.scored_ids)
        if isinstance(rule, AllItemsRequired):
            self.rule = _REQUIRE_ALL
        elif isinstance(rule, ProrateUpTo):
            self.rule, self.max_missing = _PRORATE, rule.max_missing
        elif isinstance(rule, ScoreAnsweredItems):
            self.rule, self.min_answered = _ANSWERED_ONLY, max(rule.min_answered, 1)
        elif isinstance(rule, BlanksScoreZero):
            self.rule = _BLANKS_ZERO
        self._check()

    def _compile(self, condition: Condition) -> _Compiled:
        subscale_names = {name for name, _ in self.subscales}
        if condition.subject == "total":
            kind = _TOTAL
        elif condition.subject in subscale_names:
            kind = _SUBSCALE
        elif condition.subject in self.scores:
            kind = _ITEM
        else:
            raise ValueError(f"{self.code}: condition on unknown subject {condition.subject!r}")
        return (kind, condition.subject, _OPS[condition.op], condition.value)

    def _check(self) -> None:
        """A malformed definition fails at import, not in front of a patient."""
        definition = self.definition
        ids = [item.id for item in definition.items]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{self.code}: duplicate item ids")
        for name, item_ids in self.subscales:
            if name == "total" or name in self.scores:
                raise ValueError(f"{self.code}: subscale {name!r} clashes with an item id")
            unknown = [item_id for item_id in item_ids if item_id not in self.scored_ids]
            if unknown:
                raise ValueError(f"{self.code}: subscale {name!r} uses unscored/unknown {unknown}")
        if self.rule == _PRORATE and self.total_rule != "sum":
            raise ValueError(f"{self.code}: proration needs a summed total")
        if self.rule == _ANSWERED_ONLY and self.total_rule not in ("mean", "percent_of_maximum"):
            raise ValueError(f"{self.code}: scoring answered items only needs a mean or percent")

    # --- answers --------------------------------------------------------------------------

    def read(self, answers: Mapping[str, object]) -> dict[str, int]:
        """Validated raw answers (None = missing), or InstrumentError naming the item."""
        if type(answers) is not dict and not isinstance(answers, Mapping):
            raise InstrumentError(
                f"{self.code}: answers must be an object mapping item ids to values.",
                instrument=self.code,
            )
        scores, yes_no = self.scores, self.yes_no
        raw: dict[str, int] = {}
        for item_id, value in answers.items():
            allowed = scores.get(item_id)
            if allowed is None:
                raise InstrumentError(
                    f"{self.code}: unknown item {item_id!r}; items are {', '.join(scores)}.",
                    instrument=self.code,
                    item=item_id if isinstance(item_id, str) else None,
                )
            # Exactly int: bool (except on yes/no items), float (even 3.0), str and Decimal
            # answers are refused.
            if type(value) is int:
                if value in allowed:
                    raw[item_id] = value
                    continue
            elif type(value) is bool:
                # Yes/no items take True/False (the integers 1/0 are accepted as the same answers).
                if item_id in yes_no:
                    raw[item_id] = 1 if value else 0
                    continue
            elif value is None:
                continue
            if item_id in yes_no:
                raise InstrumentError(
                    f"{self.code}.{item_id}: {value!r} is not an allowed answer; "
                    "allowed values: true, false (or 1, 0).",
                    instrument=self.code,
                    item=item_id,
                    allowed=(True, False),
                )
            raise InstrumentError(
                f"{self.code}.{item_id}: {value!r} is not an allowed answer; "
                f"allowed values: {', '.join(str(v) for v in allowed)} (integers).",
                instrument=self.code,
                item=item_id,
                allowed=tuple(allowed),
            )
        return raw

    # --- scoring --------------------------------------------------------------------------

    def score(self, raw: Mapping[str, int]) -> ScoreResult:
        scored_sum = 0
        missing: list[str] = []
        for item_id, item_scores in self.scored_maps:
            value = raw.get(item_id)
            if value is None:
                missing.append(item_id)
            else:
                scored_sum += item_scores[value]
        item_count = len(self.scored_ids)
        answered = item_count - len(missing)

        # The exact total is numerator / denominator; numerator None = no total.
        numerator: int | None = None
        denominator = 1
        scorable = True
        prorated = False
        rule = self.rule
        if rule == _REQUIRE_ALL:
            scorable = not missing
            if scorable:
                numerator, denominator = self._total(scored_sum, answered)
        elif rule == _PRORATE:
            if not missing:
                numerator = scored_sum
            elif len(missing) <= self.max_missing:
                # PHQ-9: sum × items / answered, rounded half up (4 × 9 / 8 = 4.5 → 5).
                numerator = round_half_up(scored_sum * item_count, answered)
                prorated = True
            else:
                scorable = False
        elif rule == _ANSWERED_ONLY:
            scorable = answered >= self.min_answered
            if scorable:
                numerator, denominator = self._total(scored_sum, answered)
        else:  # blanks score zero (checklist)
            numerator, denominator = self._total(scored_sum, item_count)

        subscales: dict[str, int | None] = {}
        for name, item_maps in self.subscale_maps:
            subtotal = 0
            complete = True
            for item_id, item_scores in item_maps:
                value = raw.get(item_id)
                if value is None:
                    complete = False
                    break
                subtotal += item_scores[value]
            subscales[name] = subtotal if complete else None

        band: str | None = None
        if scorable and numerator is not None:
            for code, conditions in self.bands:
                if _satisfied(conditions, False, numerator, denominator, subscales, raw):
                    band = code
                    break

        flags = [
            code
            for code, any_of, conditions in self.flags
            if _satisfied(conditions, any_of, numerator, denominator, subscales, raw)
        ]

        total: Score | None
        if numerator is None:
            total = None
        elif self.total_rule == "sum":
            total = numerator
        else:
            total = DECIMAL_CONTEXT.divide(Decimal(numerator), Decimal(denominator))
        reported_subscales: dict[str, Score | None] = dict(subscales)
        return ScoreResult(
            instrument=self.code,
            version=self.version,
            total=total,
            subscales=reported_subscales,
            band=band,
            flags=flags,
            missing=missing,
            scorable=scorable,
            prorated=prorated,
        )

    def _total(self, scored_sum: int, items_counted: int) -> tuple[int | None, int]:
        """(numerator, denominator) of the total under the definition's total rule."""
        rule = self.total_rule
        if rule == "sum":
            return scored_sum, 1
        if rule == "mean":
            return scored_sum, items_counted
        if rule == "percent_of_maximum":
            # ODI: sum / (5 × sections answered) × 100 [P Fairbank].
            return scored_sum * 100, self.item_maximum * items_counted
        return None, 1


_PLANS: Final[dict[str, _Plan]] = {definition.code: _Plan(definition) for definition in all_instruments()}


def score(code: str, answers: Mapping[str, object]) -> ScoreResult:
    """Score one instrument from raw answers (item id → value as marked; omitted or None = missing).

    Raises InstrumentError for an unknown instrument, an unknown item id, or a value that is not
    one of the item's allowed raw values (bool, float and str are refused for numeric items).
    """
    plan = _PLANS.get(code) if isinstance(code, str) else None
    if plan is None:
        get(code)  # raises the InstrumentError naming the known codes
        raise AssertionError("unreachable")  # pragma: no cover
    return plan.score(plan.read(answers))
