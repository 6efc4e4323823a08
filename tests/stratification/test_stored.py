"""A stored stratification reads back as the same Stratification."""

from __future__ import annotations

import json

from intake.instruments import score
from intake.stratification import stratification_from_dict, stratify
from tests.builders import STARTBACK_HIGH, low_risk_responses


def test_stored_dict_round_trips_to_an_equal_stratification():
    responses = low_risk_responses()
    responses["startback"] = STARTBACK_HIGH
    responses["phq9"]["q9"] = 2
    responses["red_flags"]["fever"] = True
    scores = {code: score(code, answers) for code, answers in responses.items()}
    original = stratify(
        scores=scores, answers=responses, pain_duration_weeks=30, medications=["tramadol", "diazepam", "x"]
    )
    stored = json.loads(json.dumps(original.as_dict()))
    rebuilt = stratification_from_dict(stored)
    assert rebuilt.as_dict() == original.as_dict()
    assert [r.topic for r in rebuilt.reasons] == [r.topic for r in original.reasons]
    assert rebuilt.flags == original.flags
