"""URL map: web pages, the REST API v1, its schema and docs, the gate's public keys, health, admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from gate.views import well_known_jwks

urlpatterns = [
    path("", include("core.urls")),
    path("inventory/", include("inventory.urls")),
    path("governance/", include("governance.urls")),
    path("audits/", include("audits.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("reports/", include("reports.urls")),
    path("api/v1/", include("config.api_urls")),
    path(".well-known/jwks.json", well_known_jwks, name="well-known-jwks"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script from ?script, not inline: the CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("admin/", admin.site.urls),
]
