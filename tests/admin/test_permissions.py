"""Every admin page, for every role: what each may open, and that another clinic's records are
not found (the admin redirects to its index with "doesn't exist", custom views answer 404)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from intake.models import Intake, IntakeSource, Role
from intake.services.intakes import IntakeOutcome
from tests.factories import ClinicFactory, IntegrationClientFactory, PatientFactory

from .conftest import submit

pytestmark = pytest.mark.django_db

R, CO, CL, CA = Role.RECEPTION, Role.COORDINATOR, Role.CLINICIAN, Role.CLINIC_ADMIN
OK, DENIED = 200, 403

# page → {role: expected status}
PAGES: dict[str, dict[str, int]] = {
    "patient_changelist": {R: OK, CO: OK, CL: OK, CA: DENIED},
    "patient_add": {R: OK, CO: DENIED, CL: OK, CA: DENIED},
    "patient_change": {R: OK, CO: OK, CL: OK, CA: DENIED},
    "intake_changelist": {R: OK, CO: OK, CL: OK, CA: DENIED},
    "intake_add": {R: OK, CO: DENIED, CL: OK, CA: DENIED},
    "intake_entry": {R: OK, CO: DENIED, CL: OK, CA: DENIED},
    "intake_change": {R: OK, CO: OK, CL: OK, CA: DENIED},
    "intake_correct": {R: DENIED, CO: DENIED, CL: OK, CA: DENIED},
    "referralflag_changelist": {R: DENIED, CO: OK, CL: OK, CA: DENIED},
    "referralflag_change": {R: DENIED, CO: OK, CL: OK, CA: DENIED},
    "staffmembership_changelist": {R: DENIED, CO: DENIED, CL: DENIED, CA: OK},
    "staffmembership_add": {R: DENIED, CO: DENIED, CL: DENIED, CA: OK},
    "integrationclient_changelist": {R: DENIED, CO: DENIED, CL: DENIED, CA: OK},
    "integrationclient_change": {R: DENIED, CO: DENIED, CL: DENIED, CA: OK},
    "clinic_change": {R: DENIED, CO: DENIED, CL: DENIED, CA: OK},
}


def url_of(page: str, *, clinic: Any, outcome: IntakeOutcome, integration: Any) -> str:
    intake, patient = outcome.intake, outcome.intake.patient
    model, _, view = page.partition("_")
    if page == "intake_entry":
        return reverse("admin:intake_intake_add") + f"?patient={patient.pk}&form=lbp-initial"
    if page == "intake_correct":
        return reverse("admin:intake_intake_correct", args=[intake.pk])
    if view in ("changelist", "add"):
        return reverse(f"admin:intake_{model}_{view}")
    obj = {
        "patient": patient,
        "intake": intake,
        "referralflag": outcome.flags[0] if outcome.flags else None,
        "integrationclient": integration,
        "clinic": clinic,
    }[model]
    return reverse(f"admin:intake_{model}_change", args=[obj.pk])


@pytest.fixture
def records(clinic: Any) -> dict[str, Any]:
    patient = PatientFactory(clinic=clinic)
    return {
        "clinic": clinic,
        "outcome": submit(patient, responses={"phq9": {"q9": 1}}),
        "integration": IntegrationClientFactory(clinic=clinic),
    }


@pytest.mark.parametrize("role", [R, CO, CL, CA])
@pytest.mark.parametrize("page", list(PAGES))
def test_role_page_access(staff_for: Any, records: dict[str, Any], role: str, page: str) -> None:
    client = staff_for(role, records["clinic"])
    response = client.get(url_of(page, **records))
    assert response.status_code == PAGES[page][role], f"{role} on {page}"


@pytest.mark.parametrize("role", [R, CO, CL, CA])
@pytest.mark.parametrize(
    "page",
    ["patient_change", "intake_change", "referralflag_change", "integrationclient_change", "clinic_change"],
)
def test_other_clinic_records_are_not_found(
    staff_for: Any, records: dict[str, Any], role: str, page: str
) -> None:
    client = staff_for(role, ClinicFactory())
    response = client.get(url_of(page, **records))
    # Django admin answers a record outside the queryset with a redirect to the index
    # ("... doesn't exist"); a role without the model at all gets 403. Never the record.
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert response["Location"] == reverse("admin:index")


@pytest.mark.parametrize(
    ("page", "role"), [("intake_entry", R), ("intake_entry", CL), ("intake_correct", CL)]
)
def test_other_clinic_custom_views_answer_404(
    staff_for: Any, records: dict[str, Any], role: str, page: str
) -> None:
    client = staff_for(role, ClinicFactory())
    assert client.get(url_of(page, **records)).status_code == 404


@pytest.mark.parametrize(
    ("model", "role"),
    [
        ("patient", R),
        ("intake", CL),
        ("referralflag", CO),
        ("staffmembership", CA),
        ("integrationclient", CA),
    ],
)
def test_changelists_show_only_own_clinic(staff_for: Any, clinic: Any, model: str, role: str) -> None:
    mine, theirs = PatientFactory(clinic=clinic, family_name="Mine"), PatientFactory(family_name="Theirs")
    mine_outcome = submit(mine, responses={"phq9": {"q9": 1}})
    theirs_outcome = submit(theirs, responses={"phq9": {"q9": 1}})
    IntegrationClientFactory(clinic=clinic)
    IntegrationClientFactory(clinic=theirs.clinic)
    client = staff_for(role, clinic)
    staff_for(role, theirs.clinic)  # a member there, so it has rows of each model
    query = "?status=all" if model == "referralflag" else ""
    response = client.get(reverse(f"admin:intake_{model}_changelist") + query)
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert rows
    for row in rows:
        clinic_id = row.pk if model == "clinic" else row.clinic_id
        assert clinic_id == clinic.pk
    assert mine_outcome.intake.clinic_id == clinic.pk != theirs_outcome.intake.clinic_id


def test_role_applies_only_in_its_clinic(staff_for: Any, clinic: Any) -> None:
    """Reception here and coordinator elsewhere: no flags of this clinic, flags of the other."""
    here = submit(PatientFactory(clinic=clinic), responses={"phq9": {"q9": 1}})
    elsewhere_clinic = ClinicFactory()
    there = submit(PatientFactory(clinic=elsewhere_clinic), responses={"phq9": {"q9": 1}})
    client = staff_for(R, clinic)
    from tests.factories import MembershipFactory

    MembershipFactory(user=client.user, clinic=elsewhere_clinic, role=CO)
    listed = client.get(reverse("admin:intake_referralflag_changelist")).context["cl"].result_list
    assert {flag.clinic_id for flag in listed} == {elsewhere_clinic.pk}
    assert client.get(reverse("admin:intake_referralflag_change", args=[here.flags[0].pk])).status_code == 302
    assert (
        client.get(reverse("admin:intake_referralflag_change", args=[there.flags[0].pk])).status_code == 200
    )


def test_superuser_sees_every_clinic(client: Any, clinic: Any) -> None:
    from tests.factories import UserFactory

    outcome = submit(PatientFactory(), responses={"phq9": {"q9": 1}})
    client.force_login(UserFactory(is_superuser=True))
    assert client.get(reverse("admin:intake_intake_change", args=[outcome.intake.pk])).status_code == 200
    assert client.get(reverse("admin:intake_referralflag_changelist")).context["cl"].result_count == 1


def test_user_without_membership_sees_no_models(staff_for: Any, client: Any) -> None:
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert response.context["app_list"] == []


def test_intakes_revisions_and_scores_cannot_be_edited_or_deleted(staff_for: Any, clinic: Any) -> None:
    outcome = submit(PatientFactory(clinic=clinic))
    client = staff_for(CL, clinic)
    url = reverse("admin:intake_intake_change", args=[outcome.intake.pk])
    response = client.post(url, {"form_code": "lbp-followup"})
    assert response.status_code == 200  # the read-only result page; nothing was changed
    assert Intake.objects.get(pk=outcome.intake.pk).form_code == "lbp-initial"
    assert client.get(reverse("admin:intake_intake_delete", args=[outcome.intake.pk])).status_code == 403
    assert outcome.revision.source == IntakeSource.API
    assert "intake.intakerevision" not in {f"{m._meta.app_label}.{m._meta.model_name}" for m in _registered()}
    assert "intake.instrumentscore" not in {
        f"{m._meta.app_label}.{m._meta.model_name}" for m in _registered()
    }


def _registered() -> list[Any]:
    from django.contrib import admin

    return list(admin.site._registry)
