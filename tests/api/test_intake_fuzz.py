"""Whatever arrives, the intake endpoints answer 2xx or 4xx — never 5xx, never a half-write."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.models import Intake, IntakeRevision, OutboxEvent, ReferralFlag
from tests.builders import initial_intake
from tests.factories import IdentifierFactory, PatientFactory

pytestmark = pytest.mark.django_db

MRN = {"system": "urn:fuzz", "value": "1"}


def _row_counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (Intake, IntakeRevision, ReferralFlag, OutboxEvent))


scalars = (
    st.none()
    | st.booleans()
    | st.integers(-10, 100)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(
        ["form", "completed_at", "responses", "pain_duration_weeks", "medications", "patient", "work_status"]
    ),
    value=values,
)
def test_any_top_level_field_value_is_handled(api, clinic, path, value):
    if not IdentifierFactory._meta.model.objects.filter(value="1").exists():
        IdentifierFactory(patient=PatientFactory(clinic=clinic), **MRN)
    body = initial_intake({"identifier": MRN})
    body[path] = value
    before = _row_counts()
    response = api.post("/api/v1/intakes/", json.dumps(body), content_type="application/json")
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert _row_counts() == before  # examples share the database: compare, don't expect empty


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    instrument=st.sampled_from(["nrs", "peg", "odi", "startback", "phq9", "gad7", "pcs", "isi", "red_flags"]),
    item=st.text(max_size=12)
    | st.sampled_from(["q1", "q9", "s3", "p", "pain", "fever", "saddle_anaesthesia"]),
    value=values,
)
def test_any_answer_is_handled(api, clinic, instrument, item, value):
    if not IdentifierFactory._meta.model.objects.filter(value="1").exists():
        IdentifierFactory(patient=PatientFactory(clinic=clinic), **MRN)
    body = initial_intake({"identifier": MRN})
    body["responses"][instrument][item] = value
    before = _row_counts()
    response = api.post("/api/v1/intakes/", json.dumps(body), content_type="application/json")
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert _row_counts() == before
        assert response.json()["errors"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=values)
def test_any_fhir_document_is_handled(api, document):
    response = api.post(
        "/fhir/QuestionnaireResponse", json.dumps(document), content_type="application/fhir+json"
    )
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["resourceType"] == "OperationOutcome"
    assert not Intake.objects.exists()
