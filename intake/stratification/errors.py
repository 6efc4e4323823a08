"""The errors the stratification engine raises."""

from __future__ import annotations


class UnknownRuleset(ValueError):
    """No ruleset with the requested id exists."""


class InvalidStratificationInput(ValueError):
    """The scores, answers or intake details break the contract of docs/clinical-reference.md §21."""
