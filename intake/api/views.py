"""API v1 views: parse with a serializer, call one service, render. Nothing else."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from intake.models import Patient
from intake.selectors.patients import patient_queryset
from intake.services.patients import patient_create, patient_set_active, patient_update

from .filters import PatientFilter
from .permissions import get_actor
from .serializers import PatientSerializer, identifier_pairs

PATIENT_EXAMPLE = OpenApiExample(
    "New patient",
    request_only=True,
    value={
        "family_name": "Okafor",
        "given_name": "Ada",
        "birth_date": "1971-03-14",
        "gender": "female",
        "identifiers": [{"system": "urn:oid:2.16.840.1.113883.19.5", "value": "MRN-0042"}],
    },
)


@extend_schema_view(
    list=extend_schema(summary="List and search patients"),
    retrieve=extend_schema(summary="Get a patient"),
    create=extend_schema(summary="Register a patient", examples=[PATIENT_EXAMPLE]),
    update=extend_schema(summary="Replace a patient's demographics and identifiers"),
    partial_update=extend_schema(summary="Change some of a patient's demographics"),
)
class PatientViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Patients of the caller's clinic. Patients are deactivated, never deleted."""

    scope_resource = "patients"
    serializer_class = PatientSerializer
    filterset_class = PatientFilter
    lookup_value_converter = "uuid"
    problem_statuses = ("409",)

    def get_queryset(self) -> QuerySet[Patient]:
        if getattr(self, "swagger_fake_view", False):
            return Patient.objects.none()
        return patient_queryset(clinic=get_actor(self.request).clinic)

    def perform_create(self, serializer: PatientSerializer) -> None:  # type: ignore[override]
        data = dict(serializer.validated_data)
        identifiers = identifier_pairs(data) or []
        data.pop("identifiers", None)
        serializer.instance = patient_create(
            clinic=get_actor(self.request).clinic, identifiers=identifiers, **data
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().create(request, *args, **kwargs)
        response["Location"] = f"{request.path}{response.data['id']}/"
        return response

    def perform_update(self, serializer: PatientSerializer) -> None:  # type: ignore[override]
        data = dict(serializer.validated_data)
        identifiers = identifier_pairs(data)
        data.pop("identifiers", None)
        assert isinstance(serializer.instance, Patient)
        serializer.instance = patient_update(
            patient=serializer.instance, changes=data, identifiers=identifiers
        )

    @extend_schema(request=None, responses=PatientSerializer, summary="Deactivate a patient")
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: str | None = None) -> Response:
        patient = patient_set_active(patient=self.get_object(), is_active=False)
        return Response(self.get_serializer(patient).data, status=status.HTTP_200_OK)

    @extend_schema(request=None, responses=PatientSerializer, summary="Reactivate a patient")
    @action(detail=True, methods=["post"])
    def reactivate(self, request: Request, pk: str | None = None) -> Response:
        patient = patient_set_active(patient=self.get_object(), is_active=True)
        return Response(self.get_serializer(patient).data, status=status.HTTP_200_OK)
