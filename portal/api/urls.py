"""/api/v1/… (namespace `api:v1:`), the OpenAPI schema at /api/schema/ and the docs at /api/docs/.

The docs are Swagger UI from drf-spectacular-sidecar, its start-up script served as a file (`?script`), so the page
runs under the portal's strict CSP and loads nothing from another host. ReDoc was dropped: its bundle pulls fonts
from Google and injects inline styles; /api/redoc/ now sends old bookmarks to /api/docs/.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

app_name = "api"


@csrf_exempt  # nothing to protect: it changes nothing, and must answer every method the same way
def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """Anything under /api/ that matches no route: the API's own 404, in its format, never an HTML page."""
    return JsonResponse({"error": {"type": "not_found", "code": "not_found", "message": "No such object."}},
                        status=404)


v1 = [
    path("", include("portal.api.customers.urls")),
    path("", include("portal.api.mining.urls")),
    path("", include("portal.api.watcher_links.urls")),
    path("", include("portal.api.alerts.urls")),
    path("", include("portal.api.tokens.urls")),
    path("", include("portal.api.billing.urls")),  # api2: contracts, statements, exports
]

urlpatterns = [
    path("v1/", include((v1, "v1"))),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="portal/api_docs.html"),
         name="docs"),
    path("redoc/", RedirectView.as_view(pattern_name="api:docs", permanent=False), name="redoc"),
    re_path(r"^.*$", api_not_found, name="not_found"),
]
