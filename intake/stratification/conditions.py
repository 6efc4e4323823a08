"""The conditions rules are written with: each builds a check that returns the evidence it
found when it holds, and None when it does not. No clinical numbers live here; rulesets pass
them in next to their sources."""

from __future__ import annotations

from collections.abc import Sequence

from .decisions import Decision, Evidence
from .rules import BACK_CARE, Condition, IntakeFacts, ListedMedicine

# Raised by the instrument scorer (docs/clinical-reference.md §21).
PHQ9_SUICIDAL_IDEATION = "suicidal_ideation"
PHQ9_ITEM9_UNANSWERED = "item9_unanswered"


def band_is(instrument: str, band: str, *, threshold: str) -> Condition:
    """The instrument was scored and fell in `band`."""

    def condition(facts: IntakeFacts, earlier: Sequence[Decision]) -> Sequence[Evidence] | None:
        result = facts.scores.get(instrument)
        if result is None or not result.scorable or result.band != band:
            return None
        return (Evidence(instrument=instrument, item="band", value=band, threshold=threshold),)

    return condition


def total_at_least(instrument: str, minimum: int) -> Condition:
    """The instrument was scored and its total (prorated or not) is `minimum` or more."""

    def condition(facts: IntakeFacts, earlier: Sequence[Decision]) -> Sequence[Evidence] | None:
        result = facts.scores.get(instrument)
        if result is None or not result.scorable or result.total is None:
            return None
        if result.total < minimum:
            return None
        return (
            Evidence(
                instrument=instrument,
                item="total",
                value=result.total,
                threshold=f">= {minimum}",
                prorated=result.prorated,
            ),
        )

    return condition


def score_flag_raised(instrument: str, flag: str) -> Condition:
    """The scorer raised `flag` for the instrument. Read even when the instrument is not
    scorable: a red-flag category must never be dropped because another item was blank."""

    def condition(facts: IntakeFacts, earlier: Sequence[Decision]) -> Sequence[Evidence] | None:
        result = facts.scores.get(instrument)
        if result is None or flag not in result.flags:
            return None
        return (Evidence(instrument=instrument, item=flag, value=True, threshold="flag raised"),)

    return condition


def phq9_item9_at_least(minimum: int) -> Condition:
    """PHQ-9 item 9 was answered `minimum` or more. A `suicidal_ideation` flag from the scorer
    also counts as item 9 >= 1 (if the raw answer is missing or disagrees, the flag wins: a
    safety flag is never dropped), but it cannot prove a higher value."""

    def condition(facts: IntakeFacts, earlier: Sequence[Decision]) -> Sequence[Evidence] | None:
        value = facts.phq9_item9
        if value is not None and value >= minimum:
            return (Evidence(instrument="phq9", item="q9", value=value, threshold=f">= {minimum}"),)
        result = facts.scores.get("phq9")
        if minimum <= 1 and result is not None and PHQ9_SUICIDAL_IDEATION in result.flags:
            return (
                Evidence(
                    instrument="phq9",
                    item=PHQ9_SUICIDAL_IDEATION,
                    value=True,
                    threshold="flag raised by the scorer (q9 >= 1)",
                ),
            )
        return None

    return condition


def phq9_item9_unanswered() -> Condition:
    """PHQ-9 was administered but item 9 has no answer (blank is never read as 0)."""

    def condition(facts: IntakeFacts, earlier: Sequence[Decision]) -> Sequence[Evidence] | None:
        if not facts.is_phq9_administered or facts.phq9_item9 is not None:
            return None
        result = facts.scores.get("phq9")
        if result is not None and PHQ9_SUICIDAL_IDEATION in result.flags:
            return None  # answered >= 1 per the scorer; the item-9 rules raise the flag
        return (Evidence(instrument="phq9", item="q9", value=None, threshold="answered"),)

    return condition


def medicines_taken_together(first_class: str, other_classes: frozenset[str]) -> Condition:
    """The patient takes a medicine of `first_class` and one of any of `other_classes`."""

    def condition(facts: IntakeFacts, earlier: Sequence[Decision]) -> Sequence[Evidence] | None:
        firsts = [medicine for medicine in facts.medicines if first_class in medicine.classes]
        others = [medicine for medicine in facts.medicines if other_classes & set(medicine.classes)]
        if not firsts or not others:
            return None
        return tuple(_medicine_evidence(medicine, first_class) for medicine in firsts) + tuple(
            _medicine_evidence(medicine, cls)
            for medicine in others
            for cls in medicine.classes
            if cls in other_classes
        )

    return condition


def _medicine_evidence(medicine: ListedMedicine, medicine_class: str) -> Evidence:
    return Evidence(
        instrument="medications",
        item=medicine.name,
        value=medicine.generic,
        threshold=f"class {medicine_class}",
    )


def pain_duration_at_least(weeks: int) -> Condition:
    """The reported pain duration is `weeks` or more (unknown duration never fires)."""

    def condition(facts: IntakeFacts, earlier: Sequence[Decision]) -> Sequence[Evidence] | None:
        if facts.pain_duration_weeks is None or facts.pain_duration_weeks < weeks:
            return None
        return (
            Evidence(
                instrument="intake",
                item="pain_duration_weeks",
                value=facts.pain_duration_weeks,
                threshold=f">= {weeks}",
            ),
        )

    return condition


def back_care_is(back_care: str) -> Condition:
    """An earlier back-care rule decided `back_care`; its evidence is carried over."""

    def condition(facts: IntakeFacts, earlier: Sequence[Decision]) -> Sequence[Evidence] | None:
        decision = _back_care_decision(earlier)
        if decision is None or decision.decision != back_care:
            return None
        return decision.evidence

    return condition


def back_care_is_with_any_of(back_care: str, topic: str) -> Condition:
    """An earlier back-care rule decided `back_care` and an earlier rule of `topic` fired;
    the evidence of all of them is carried over."""

    def condition(facts: IntakeFacts, earlier: Sequence[Decision]) -> Sequence[Evidence] | None:
        back_care_evidence = back_care_is(back_care)(facts, earlier)
        fired = [decision for decision in earlier if decision.topic == topic]
        if back_care_evidence is None or not fired:
            return None
        return tuple(back_care_evidence) + tuple(item for decision in fired for item in decision.evidence)

    return condition


def _back_care_decision(earlier: Sequence[Decision]) -> Decision | None:
    for decision in earlier:
        if decision.topic == BACK_CARE:
            return decision
    return None
