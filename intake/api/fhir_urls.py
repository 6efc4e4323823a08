"""FHIR R4 endpoints (mounted at /fhir/)."""

from django.urls import path

from . import fhir_http

urlpatterns = [
    path("Questionnaire", fhir_http.QuestionnaireListView.as_view(), name="fhir-questionnaire-list"),
    path("Questionnaire/<str:code>", fhir_http.QuestionnaireReadView.as_view(), name="fhir-questionnaire"),
    path("QuestionnaireResponse", fhir_http.QuestionnaireResponseCreateView.as_view(), name="fhir-qr-create"),
    path(
        "QuestionnaireResponse/$extract",
        fhir_http.QuestionnaireResponseExtractView.as_view(),
        name="fhir-qr-extract",
    ),
    path(
        "QuestionnaireResponse/<uuid:intake_id>",
        fhir_http.QuestionnaireResponseReadView.as_view(),
        name="fhir-qr-read",
    ),
    path(
        "RiskAssessment/<int:record_id>",
        fhir_http.RiskAssessmentReadView.as_view(),
        name="fhir-riskassessment",
    ),
    path("Observation", fhir_http.ObservationSearchView.as_view(), name="fhir-observation-search"),
    path("AuditEvent", fhir_http.AuditEventSearchView.as_view(), name="fhir-auditevent-search"),
]
