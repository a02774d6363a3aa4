"""/api/v1/… (namespace `api:v1:`), the OpenAPI schema at /api/schema/ and the docs at /api/docs/."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

app_name = "api"

v1 = [
    path("", include("portal.api.customers.urls")),
    path("", include("portal.api.mining.urls")),
    path("", include("portal.api.watcher_links.urls")),
    path("", include("portal.api.alerts.urls")),
    path("", include("portal.api.tokens.urls")),
]

urlpatterns = [
    path("v1/", include((v1, "v1"))),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
]
