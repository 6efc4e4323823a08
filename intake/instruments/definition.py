"""The vocabulary every instrument definition is written in: items, options, scales, bands, flags.

Definitions are data. One scorer (`intake.instruments.scorer`) reads them; nothing here computes a
score. Citations are kept as short strings next to the number they justify, in the bracket style of
`docs/clinical-reference.md` ([P] primary, [S] secondary, [NC] not confirmed, "project policy").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

ItemKind = Literal["choice", "scale", "yes_no"]
"""How an item is answered: one of a few labelled options, a 0-10 style numeric scale, or yes/no."""

TotalRule = Literal["sum", "mean", "percent_of_maximum", "none"]
"""How the total is formed from the scored item values (after reversal/recoding)."""

Op = Literal[">=", ">", "<=", "<", "answered", "unanswered"]

LOINC = "http://loinc.org"


@dataclass(frozen=True)
class Option:
    """One response option: the raw value the patient marks and its label."""

    value: int
    label: str
    loinc: str | None = None


@dataclass(frozen=True)
class Item:
    """One question. `options` hold raw values; reversal or recoding turns them into scored values.

    `text` carries the full published wording and is filled only for public-domain instruments
    (PHQ family, NRS, PEG; docs/clinical-reference.md §0 and the note under §21). Every other
    instrument gets a short paraphrased `label` only.
    """

    id: str
    label: str
    options: tuple[Option, ...]
    kind: ItemKind = "choice"
    text: str | None = None
    scored: bool = True
    reverse_from: int | None = None
    """Reversed item: scored value = reverse_from - raw value (e.g. 10 - x for Örebro)."""
    recode: tuple[tuple[int, int], ...] | None = None
    """Explicit raw → scored mapping (e.g. STarT Back item 9)."""
    loinc: str | None = None
    note: str | None = None

    @property
    def values(self) -> tuple[int, ...]:
        """The raw values a patient can mark."""
        return tuple(option.value for option in self.options)

    @property
    def is_reversed(self) -> bool:
        return self.reverse_from is not None

    def score_of(self, raw: int) -> int:
        """The scored value of a raw answer (after reversal or recoding)."""
        if self.reverse_from is not None:
            return self.reverse_from - raw
        if self.recode is not None:
            return dict(self.recode)[raw]
        return raw


@dataclass(frozen=True)
class Subscale:
    """A named sum of scored items; computed only when all of its items are answered."""

    name: str
    items: tuple[str, ...]
    source: str
    loinc: str | None = None
    mcid: Mcid | None = None


@dataclass(frozen=True)
class Condition:
    """A test on `subject`: "total", a subscale name, or an item id (compared on the raw answer).

    A subject without a value (not scorable, subscale incomplete, item unanswered) never satisfies
    a comparison; only "unanswered" matches it.
    """

    subject: str
    op: Op
    value: int = 0


@dataclass(frozen=True)
class Band:
    """A severity/risk band: applies when every condition holds. Bands are tried in order."""

    code: str
    when: tuple[Condition, ...]
    source: str
    loinc: str | None = None


@dataclass(frozen=True)
class Flag:
    """A named finding raised when all (or, with `any_of`, any) of its conditions hold."""

    code: str
    when: tuple[Condition, ...]
    source: str
    any_of: bool = False


@dataclass(frozen=True)
class Mcid:
    """Minimal clinically important change. Either threshold met counts (see `change`)."""

    source: str
    points: Decimal | None = None
    percent: Decimal | None = None
    note: str | None = None


@dataclass(frozen=True)
class AllItemsRequired:
    """Every scored item must be answered; otherwise not scorable."""

    source: str


@dataclass(frozen=True)
class ProrateUpTo:
    """Up to `max_missing` scored items missing: sum x items / answered, rounded half up."""

    max_missing: int
    source: str


@dataclass(frozen=True)
class ScoreAnsweredItems:
    """Score over the answered items only (ODI: divide by 5 x sections answered)."""

    min_answered: int
    source: str


@dataclass(frozen=True)
class BlanksScoreZero:
    """Checklist semantics: an unticked (blank) line scores 0; blanks are still listed."""

    source: str


MissingRule = AllItemsRequired | ProrateUpTo | ScoreAnsweredItems | BlanksScoreZero


@dataclass(frozen=True)
class Loinc:
    """LOINC codes of the panel (the Questionnaire), the total score and the band/risk answer."""

    panel: str | None = None
    total: str | None = None
    band: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class InstrumentDefinition:
    """One published instrument, versioned. Change `version` whenever scoring-relevant data changes."""

    code: str
    version: str
    title: str
    recall_period: str | None
    items: tuple[Item, ...]
    total_rule: TotalRule
    total_range: tuple[int, int] | None
    missing_rule: MissingRule
    licence: str
    sources: tuple[str, ...]
    subscales: tuple[Subscale, ...] = ()
    bands: tuple[Band, ...] = ()
    flags: tuple[Flag, ...] = ()
    mcid: Mcid | None = None
    loinc: Loinc = field(default_factory=Loinc)
    notes: tuple[str, ...] = ()

    def item(self, item_id: str) -> Item:
        """The item with this id (KeyError if there is none)."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    @property
    def scored_items(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.scored)

    @property
    def reversed_items(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items if item.is_reversed)

    @property
    def recoded_items(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items if item.recode is not None)


# --- small builders that keep the definition modules readable ---------------------------------


def at_least(subject: str, value: int) -> Condition:
    return Condition(subject, ">=", value)


def above(subject: str, value: int) -> Condition:
    return Condition(subject, ">", value)


def at_most(subject: str, value: int) -> Condition:
    return Condition(subject, "<=", value)


def between(subject: str, low: int, high: int) -> tuple[Condition, ...]:
    """Inclusive on both ends: the "0-4" of a published band table."""
    return (Condition(subject, ">=", low), Condition(subject, "<=", high))


def numbered_options(low: int, high: int, anchors: dict[int, str] | None = None) -> tuple[Option, ...]:
    """Options low..high labelled by their number, with the published anchors where given."""
    anchors = anchors or {}
    return tuple(
        Option(value, f"{value} ({anchors[value]})" if value in anchors else str(value))
        for value in range(low, high + 1)
    )


def labelled_options(*labels: str, start: int = 0) -> tuple[Option, ...]:
    """Options valued start, start+1, … in the order the labels are given."""
    return tuple(Option(start + offset, label) for offset, label in enumerate(labels))


YES_NO = (Option(0, "No"), Option(1, "Yes"))
