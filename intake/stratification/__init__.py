"""Stratification: versioned rulesets that turn instrument scores, raw answers, pain duration
and medicines into care recommendations and referral flags, each with its evidence
(docs/clinical-reference.md §23). Pure Python: no Django imports."""

from .decisions import Evidence, FlagDecision, Stratification
from .engine import CURRENT_RULESET, RULESETS, get_ruleset, stratify
from .errors import InvalidStratificationInput, UnknownRuleset
from .medications import MEDICATION_LIST_VERSION, classify_medications
from .rules import Rule, Ruleset
from .stored import stratification_from_dict

__all__ = [
    "CURRENT_RULESET",
    "MEDICATION_LIST_VERSION",
    "RULESETS",
    "Evidence",
    "FlagDecision",
    "InvalidStratificationInput",
    "Rule",
    "Ruleset",
    "Stratification",
    "UnknownRuleset",
    "classify_medications",
    "get_ruleset",
    "stratification_from_dict",
    "stratify",
]
