"""Every endpoint × method × actor, generated from the URL configuration.

Anonymous → 401. Another clinic's client holding every scope → 404 on anything naming one of
our objects, and none of our ids in any answer. Our own client without scopes → 403 wherever a
scope is required. A new endpoint is checked automatically: it fails here until it has a sample.
"""

from __future__ import annotations

import pytest
from drf_spectacular.generators import EndpointEnumerator
from rest_framework.test import APIClient

from tests.factories import ClinicFactory, MembershipFactory
from tests.records import fill, records_of_every_kind

pytestmark = pytest.mark.django_db

PREFIXES = ("/api/v1/", "/fhir/")
# Endpoints any authenticated caller of a clinic may use (reference data, no patient data).
SCOPE_FREE = {
    "/api/v1/instruments/",
    "/api/v1/instruments/{code}/",
    "/fhir/Questionnaire",
    "/fhir/Questionnaire/{code}",
}
# Staff-only (clinic admins): integration clients are refused whatever their scopes.
ADMIN_ONLY = {"/fhir/AuditEvent"}


def endpoints() -> list[tuple[str, str]]:
    found = {
        (_fhir_operation(path), method) for path, _, method, _ in EndpointEnumerator().get_api_endpoints()
    }
    return sorted((path, method) for path, method in found if path.startswith(PREFIXES))


@pytest.fixture
def world(api, clinic, settings):
    """Clinic A with one of everything, created through the API where the API creates it."""
    ids, patient, _ = records_of_every_kind(
        api, clinic, settings, mrn=("urn:m", "M-1"), responses={"phq9": {"q9": 1}}
    )
    query = {
        "/fhir/Observation": {"subject": f"Patient/{patient.pk}"},
        "/fhir/AuditEvent": {"patient": str(patient.pk)},
    }
    # UUIDs are what must never leak (a small integer id would match any text).
    secrets = {str(v) for v in ids.values() if len(str(v)) == 36}
    return {"ids": ids, "query": query, "secret_ids": secrets}


def _fhir_operation(path: str) -> str:
    """The enumerator drops the `$` of FHIR operations (`$extract`); restore it."""
    return path.replace("/QuestionnaireResponse/extract", "/QuestionnaireResponse/$extract")


def call(client: APIClient, method: str, url: str, query: dict | None):
    if method == "GET":
        return client.get(url, query or {})
    return getattr(client, method.lower())(url, {}, format="json")


def test_every_endpoint_refuses_anonymous_callers(world):
    checked = 0
    for path, method in endpoints():
        response = call(APIClient(), method, fill(path, world["ids"]), world["query"].get(path))
        assert response.status_code == 401, (method, path, response.status_code)
        checked += 1
    assert checked >= 30
    print(f"anonymous: {checked} endpoint-methods → 401")


def test_another_clinic_sees_nothing_of_ours(world, api_for):
    stranger_client = api_for(ClinicFactory())
    other = ClinicFactory()
    stranger_admin = APIClient()
    stranger_admin.force_login(MembershipFactory(clinic=other, role="clinic_admin").user)
    checked = 0
    for path, method in endpoints():
        for stranger in (stranger_client, stranger_admin):
            url = fill(path, world["ids"])
            response = call(stranger, method, url, world["query"].get(path))
            names_our_object = "{" in path and "{code}" not in path
            if names_our_object:
                assert response.status_code == 404, (method, path, response.status_code)
            assert response.status_code < 500, (method, path)
            body = response.content.decode()
            assert not any(secret in body for secret in world["secret_ids"] if secret not in url), (
                method,
                path,
            )
            checked += 1
    print(f"other clinic: {checked} endpoint-method-actor checks, 0 leaks")


def test_missing_scope_is_403(world, api_for, clinic):
    scopeless = api_for(clinic, [])
    checked = 0
    for path, method in endpoints():
        response = call(scopeless, method, fill(path, world["ids"]), world["query"].get(path))
        if path in SCOPE_FREE:
            assert response.status_code != 403, (method, path)
        else:
            assert response.status_code == 403, (method, path, response.status_code)
        checked += 1
    print(f"no scopes: {checked} endpoint-methods checked")


def test_each_scope_opens_only_its_own_endpoints(world, api_for, clinic):
    """A client holding one scope gets past authorization exactly where that scope is needed."""
    from django.conf import settings as django_settings

    opened: dict[str, set[tuple[str, str]]] = {}
    for scope in django_settings.API_SCOPES:
        client = api_for(clinic, [scope])
        opened[scope] = set()
        for path, method in endpoints():
            if path in SCOPE_FREE or path in ADMIN_ONLY:
                continue
            response = call(client, method, fill(path, world["ids"]), world["query"].get(path))
            if response.status_code != 403:
                opened[scope].add((method, path))
        if scope.endswith(":read"):
            assert all(method == "GET" or "$extract" in path for method, path in opened[scope]), (
                scope,
                opened[scope],
            )
    full = api_for(clinic)  # every scope: nothing outside ADMIN_ONLY stays closed
    for path, method in endpoints():
        if path not in ADMIN_ONLY:
            response = call(full, method, fill(path, world["ids"]), world["query"].get(path))
            assert response.status_code != 403, (method, path)
    export = ("GET", "/api/v1/patients/{pk}/export/")
    assert not any(export in paths for paths in opened.values())  # needs patients:read and intakes:read
