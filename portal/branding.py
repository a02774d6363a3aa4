"""Which provider's white label a request is shown in, and the public assets (stylesheet, logo, favicon) it uses.

In order: the provider whose custom domain the request came in on; the provider named in the URL, when the
signed-in user is a member there (an outsider's 404 stays unbranded, so a slug reveals nothing); the one provider
all of a user's memberships are at (their own-account pages); otherwise the platform's own look.

The colours reach the page as a served stylesheet of CSS custom properties (the CSP allows styles from our own
origin only, never inline), built from values validated as #rrggbb, so nothing a provider types becomes CSS.
"""

from __future__ import annotations

from django.core.exceptions import DisallowedHost
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from tenants.brand import Brand, brand_default, brand_for_host, brand_for_member, brand_for_slug, brand_image

_IMMUTABLE = "public, max-age=31536000, immutable"


def request_host_brand(request: HttpRequest) -> Brand | None:
    """The brand of the custom domain this request came in on (None on the platform's own hosts)."""
    if not hasattr(request, "_host_brand"):
        try:
            request._host_brand = brand_for_host(request.get_host())
        except DisallowedHost:
            request._host_brand = None
    return request._host_brand


def brand_for_request(request: HttpRequest) -> Brand:
    if not hasattr(request, "_brand"):
        request._brand = request_host_brand(request) or _brand_of_member(request) or brand_default()
    return request._brand


def _brand_of_member(request: HttpRequest) -> Brand | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    match = getattr(request, "resolver_match", None)
    slug = (match.kwargs.get("provider_slug") if match else None) or ""
    return brand_for_member(user, slug)


def _asset(request: HttpRequest, provider_slug: str, version: int) -> Brand:
    brand = brand_for_slug(provider_slug)
    if brand is None:
        raise Http404("Not found")
    return brand


def _cached(response: HttpResponse, brand: Brand, version: int) -> HttpResponse:
    # The URL carries the version: the current one may be cached for good, an old one only briefly.
    response["Cache-Control"] = _IMMUTABLE if version == brand.version else "public, max-age=60"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def brand_css(request: HttpRequest, provider_slug: str, version: int) -> HttpResponse:
    brand = _asset(request, provider_slug, version)
    if not brand.accent:
        raise Http404("Not found")
    css = f":root {{ --accent:{brand.accent}; --accent-fg:{brand.accent_text}; }}\n"
    return _cached(HttpResponse(css, content_type="text/css; charset=utf-8"), brand, version)


def _image(request: HttpRequest, provider_slug: str, version: int, kind: str) -> HttpResponse:
    brand = _asset(request, provider_slug, version)
    data = brand_image(provider_slug=provider_slug, kind=kind)
    if not data:
        raise Http404("Not found")
    return _cached(HttpResponse(data, content_type="image/png"), brand, version)


@require_safe
def brand_logo(request: HttpRequest, provider_slug: str, version: int) -> HttpResponse:
    return _image(request, provider_slug, version, "logo")


@require_safe
def brand_favicon(request: HttpRequest, provider_slug: str, version: int) -> HttpResponse:
    return _image(request, provider_slug, version, "favicon")
