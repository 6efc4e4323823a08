"""How many elements a client may send in one list or map: one figure per kind of list, chosen from
what a real form needs with room to spare, so that a body cannot make the service do thousands of
rows' work (30,000 identifiers once took 28 s to store). Pure data, documented in README
("Input limits"); a list over its limit is refused with 400 naming the field, never truncated.
"""

from __future__ import annotations

__all__ = [
    "MAX_ANSWERS_PER_INSTRUMENT",
    "MAX_FHIR_ARRAY_ITEMS",
    "MAX_FHIR_ITEMS",
    "MAX_FHIR_NESTING",
    "MAX_IDENTIFIERS",
    "MAX_INSTRUMENTS_PER_INTAKE",
    "MAX_MEDICATIONS",
]

# A patient holds a handful of identifiers (an MRN per EHR, a national number, an insurer's id).
MAX_IDENTIFIERS = 20

# Medicines currently taken: 10 or more is already "polypharmacy"; 50 leaves room for long lists.
MAX_MEDICATIONS = 50

# `responses` keys: lbp-initial asks 9 instruments and 18 exist in all.
MAX_INSTRUMENTS_PER_INTAKE = 20

# Answers of one instrument: the longest, red_flags, has 31 items (lbp-initial ~90 answers in all).
MAX_ANSWERS_PER_INSTRUMENT = 50

# FHIR QuestionnaireResponse: items at every depth (questions, groups, display items) and nesting.
# Our longest Questionnaire has 31 items; foreign ones add groups and display items.
MAX_FHIR_ITEMS = 200
MAX_FHIR_NESTING = 10

# Any other array of a FHIR body (Bundle entries, answers, codings, extensions, answerOptions,
# contained resources): no resource this service reads needs more than a few dozen.
MAX_FHIR_ARRAY_ITEMS = 200
