"""POST /api/v1/intakes/ costs the same number of queries whatever the battery."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.builders import STARTBACK_HIGH, followup_intake, initial_intake
from tests.factories import IdentifierFactory, PatientFactory

pytestmark = pytest.mark.django_db

# With urgent flags: the token with its client and clinic (1), the patient (1), the writes of one
# transaction — intake, revision, its current_revision, scores, stratification, flags, flag
# events, outbox events (8) — the clinic's webhook subscriptions and the immediate notifications
# (3), the audit row (1), and the transaction's two boundaries on each level (4).
QUERY_BUDGET = 18


def _queries_for(api, body) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.post("/api/v1/intakes/", body, format="json")
    assert response.status_code == 201, response.json()
    return len(captured.captured_queries)


def test_query_count_does_not_grow_with_the_battery_or_the_flags(api, clinic):
    patient = PatientFactory(clinic=clinic)
    IdentifierFactory(patient=patient, system="urn:q", value="1")
    ref = {"identifier": {"system": "urn:q", "value": "1"}}
    # With no flag at all the two flag INSERTs are skipped, so both batteries raise flags here.
    small = _queries_for(api, followup_intake(ref, responses={"phq9": {"q9": 1}}))  # 5 instruments, 1 flag
    large = _queries_for(
        api,
        initial_intake(
            ref,
            responses={"startback": STARTBACK_HIGH, "phq9": {"q9": 2}, "red_flags": {"fever": True}},
            medications=["tramadol", "diazepam"],
        ),
    )  # 9 instruments, 5 flags
    assert small == large
    assert large <= QUERY_BUDGET, large
