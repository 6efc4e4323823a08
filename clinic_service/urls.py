"""Top-level URLs: API v1, OAuth token endpoints, OpenAPI docs, health, admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from intake import health
from intake.api import oauth

handler400 = "intake.api.problems.handler400"
handler404 = "intake.api.problems.handler404"
handler500 = "intake.api.problems.handler500"

urlpatterns = [
    path("api/v1/", include("intake.api.urls")),
    path("fhir/", include("intake.api.fhir_urls")),
    path("o/token/", oauth.TokenView.as_view(), name="oauth2_token"),
    path("o/revoke_token/", oauth.RevokeTokenView.as_view(), name="oauth2_revoke_token"),
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[], authentication_classes=[]),
        name="schema",
    ),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="schema", permission_classes=[], authentication_classes=[]),
        name="swagger-ui",
    ),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(
            url_name="schema",
            template_name="api_docs/redoc.html",
            permission_classes=[],
            authentication_classes=[],
        ),
        name="redoc",
    ),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
]
