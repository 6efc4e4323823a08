"""The building blocks of a ruleset: the intake facts rules read, a named rule, and a
versioned, ordered ruleset."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from intake.instruments.result import ScoreResult

from .decisions import Decision, Evidence, FlagSpec
from .errors import InvalidStratificationInput
from .medications import classify_medications, lookup_medicine

# What a rule's decision is about; the engine assembles the result by topic.
BACK_CARE = "back_care"
PSYCHOLOGICAL_THERAPY = "psychological_therapy"
COMBINED_CARE = "combined_care"
URGENT = "urgent"
MEDICATION = "medication"
CHRONICITY = "chronicity"
TOPICS = (
    BACK_CARE,
    PSYCHOLOGICAL_THERAPY,
    COMBINED_CARE,
    URGENT,
    MEDICATION,
    CHRONICITY,
)

STARTBACK_BANDS = ("low", "medium", "high")  # docs/clinical-reference.md §21
PHQ9_ITEM_VALUES = range(4)  # PHQ-9 items are 0-3 (docs/clinical-reference.md §2)


@dataclass(frozen=True)
class ListedMedicine:
    """A medicine the patient takes that is on the medicine list."""

    name: str  # as supplied
    generic: str
    classes: tuple[str, ...]


@dataclass(frozen=True)
class IntakeFacts:
    """Everything a rule may read about one intake, checked once against the contract."""

    scores: Mapping[str, ScoreResult]
    answers: Mapping[str, Mapping[str, Any]]
    pain_duration_weeks: int | None
    medicines: tuple[ListedMedicine, ...]
    unknown_medicines: tuple[str, ...]

    @classmethod
    def collect(
        cls,
        *,
        scores: Mapping[str, ScoreResult],
        answers: Mapping[str, Mapping[str, Any]],
        pain_duration_weeks: int | None,
        medications: Sequence[str],
    ) -> IntakeFacts:
        """Check the inputs and look every medicine up; raise InvalidStratificationInput on a
        breach rather than let a rule silently skip a value it cannot read."""
        _check_scores(scores)
        _check_phq9_item9(answers)
        if pain_duration_weeks is not None and (
            isinstance(pain_duration_weeks, bool)
            or not isinstance(pain_duration_weeks, int)
            or pain_duration_weeks < 0
        ):
            raise InvalidStratificationInput(
                f"pain_duration_weeks must be a whole number of weeks >= 0 or None, "
                f"got {pain_duration_weeks!r}"
            )
        try:
            classified, unknown = classify_medications(medications)
        except TypeError as error:
            raise InvalidStratificationInput(str(error)) from error
        medicines = tuple(
            ListedMedicine(name=name, generic=entry[0], classes=entry[1])
            for name in classified
            if (entry := lookup_medicine(name)) is not None
        )
        return cls(
            scores=scores,
            answers=answers,
            pain_duration_weeks=pain_duration_weeks,
            medicines=medicines,
            unknown_medicines=tuple(unknown),
        )

    @property
    def is_phq9_administered(self) -> bool:
        return "phq9" in self.scores or "phq9" in self.answers

    @property
    def phq9_item9(self) -> int | None:
        """The raw PHQ-9 item 9 answer, or None when blank or absent (never read as 0)."""
        value = self.answers.get("phq9", {}).get("q9")
        return None if value is None else int(value)


def _check_scores(scores: Mapping[str, ScoreResult]) -> None:
    for code, result in scores.items():
        if not isinstance(result, ScoreResult):
            raise InvalidStratificationInput(f"scores[{code!r}] is not a ScoreResult")
    startback = scores.get("startback")
    if startback is not None and startback.scorable and startback.band not in STARTBACK_BANDS:
        raise InvalidStratificationInput(f"unknown STarT Back band {startback.band!r}")


def _check_phq9_item9(answers: Mapping[str, Mapping[str, Any]]) -> None:
    value = answers.get("phq9", {}).get("q9")
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value not in PHQ9_ITEM_VALUES:
        raise InvalidStratificationInput(f"PHQ-9 q9 must be 0-3 or blank, got {value!r}")


# A condition looks at the intake and at the decisions of the rules before it. It returns the
# evidence when the rule fires, and None when it does not.
Condition = Callable[[IntakeFacts, Sequence[Decision]], Sequence[Evidence] | None]


@dataclass(frozen=True)
class Rule:
    """A named rule: when `condition` holds it decides `decision` and may raise `flag`."""

    id: str
    topic: str
    description: str
    source: str
    decision: str
    condition: Condition
    flag: FlagSpec | None = None
    puts_pathway_on_hold: bool = False

    def __post_init__(self) -> None:
        if self.topic not in TOPICS:
            raise ValueError(f"rule {self.id}: unknown topic {self.topic!r}")

    def evaluate(self, facts: IntakeFacts, earlier: Sequence[Decision]) -> Decision | None:
        """The rule's decision when it fires; evidence without a source cites this rule's."""
        evidence = self.condition(facts, earlier)
        if evidence is None:
            return None
        if not evidence:
            raise ValueError(f"rule {self.id} fired without evidence")
        return Decision(
            rule=self.id,
            topic=self.topic,
            decision=self.decision,
            evidence=tuple(
                item if item.source else dataclasses.replace(item, source=self.source) for item in evidence
            ),
            flag=self.flag,
        )


@dataclass(frozen=True)
class Ruleset:
    """A versioned, ordered list of rules. Rules run in order; a rule sees earlier decisions."""

    id: str
    description: str
    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        ids = [rule.id for rule in self.rules]
        duplicates = sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1})
        if duplicates:
            raise ValueError(f"ruleset {self.id}: duplicate rule ids {duplicates}")

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)
