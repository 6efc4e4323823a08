"""GET /api/v1/patients/{id}/trajectory/: scores over time with MCID verdicts."""

from __future__ import annotations

import pytest

from tests.builders import followup_intake, initial_intake, numbered
from tests.factories import ClinicFactory, IdentifierFactory, PatientFactory

pytestmark = pytest.mark.django_db

MRN = {"system": "urn:test:mrn", "value": "TRJ-1"}


@pytest.fixture
def patient(clinic):
    patient = PatientFactory(clinic=clinic)
    IdentifierFactory(patient=patient, **MRN)
    return patient


def test_odi_improvement_beyond_the_mcid_is_improved(api, patient):
    # ODI 30/50 = 60 % → 20/50 = 40 %: 20 points, beyond the 10-point MCID (Ostelo 2008).
    api.post(
        "/api/v1/intakes/",
        initial_intake({"identifier": MRN}, responses={"odi": numbered("s", [3] * 10)}),
        format="json",
    )
    api.post(
        "/api/v1/intakes/",
        followup_intake({"identifier": MRN}, responses={"odi": numbered("s", [2] * 10)}),
        format="json",
    )
    odi = api.get(f"/api/v1/patients/{patient.id}/trajectory/").json()["instruments"]["odi"]
    assert [point["total"] for point in odi] == ["60.00", "40.00"]
    assert odi[0]["change_from_baseline"] is None
    assert odi[1]["change_from_baseline"]["absolute"] == "-20.00"
    assert odi[1]["change_from_baseline"]["verdict"] == "improved"


def test_phq9_change_below_5_points_is_no_reliable_change(api, patient):
    # PHQ-9 MCID 5 points (Löwe 2004): 6 → 2 is a 4-point drop.
    api.post(
        "/api/v1/intakes/",
        initial_intake({"identifier": MRN}, responses={"phq9": numbered("q", [1] * 6 + [0] * 3)}),
        format="json",
    )
    api.post(
        "/api/v1/intakes/",
        followup_intake({"identifier": MRN}, responses={"phq9": numbered("q", [1] * 2 + [0] * 7)}),
        format="json",
    )
    phq9 = api.get(f"/api/v1/patients/{patient.id}/trajectory/").json()["instruments"]["phq9"]
    assert [p["total"] for p in phq9] == [6, 2]
    assert phq9[1]["change_from_previous"]["verdict"] == "no_reliable_change"


def test_phq9_rise_of_5_points_is_worsened(api, patient):
    api.post("/api/v1/intakes/", initial_intake({"identifier": MRN}), format="json")  # PHQ-9 0
    api.post(
        "/api/v1/intakes/",
        followup_intake({"identifier": MRN}, responses={"phq9": numbered("q", [1] * 5 + [0] * 4)}),
        format="json",
    )
    phq9 = api.get(f"/api/v1/patients/{patient.id}/trajectory/").json()["instruments"]["phq9"]
    assert phq9[1]["change_from_baseline"]["verdict"] == "worsened"


def test_trajectory_uses_the_current_revision_only(api, patient):
    created = api.post(
        "/api/v1/intakes/", initial_intake({"identifier": MRN}, responses={"nrs": {"pain": 8}}), format="json"
    ).json()
    correction = initial_intake({"identifier": MRN}, responses={"nrs": {"pain": 6}})
    del correction["patient"]
    correction["reason"] = "typo"
    api.post(f"/api/v1/intakes/{created['id']}/revisions/", correction, format="json")
    nrs = api.get(f"/api/v1/patients/{patient.id}/trajectory/").json()["instruments"]["nrs"]
    assert [(p["total"], p["revision"]) for p in nrs] == [(6, 2)]


def test_trajectory_needs_intakes_read_and_is_clinic_scoped(api_for, clinic, patient):
    assert (
        api_for(clinic, ["patients:read"]).get(f"/api/v1/patients/{patient.id}/trajectory/").status_code
        == 403
    )
    stranger = api_for(ClinicFactory())
    assert stranger.get(f"/api/v1/patients/{patient.id}/trajectory/").status_code == 404


def test_trajectory_matches_the_openapi_document(api, patient):
    # PHQ-9 0 → 0: `absolute` is the integer 0 (as `total` is an integer), ODI 60.00 → 40.00 a
    # 2-decimal string; the document said `absolute` was always a string.
    from tests.openapi_document import assert_conforms

    for builder, odi in ((initial_intake, [3] * 10), (followup_intake, [2] * 10)):
        api.post(
            "/api/v1/intakes/",
            builder({"identifier": MRN}, responses={"odi": numbered("s", odi)}),
            format="json",
        )
    response = api.get(f"/api/v1/patients/{patient.id}/trajectory/")
    phq9 = response.json()["instruments"]["phq9"]
    assert phq9[1]["change_from_baseline"]["absolute"] == 0
    assert response.json()["instruments"]["odi"][1]["change_from_baseline"]["absolute"] == "-20.00"
    assert_conforms("GET", "/api/v1/patients/{id}/trajectory/", response)
