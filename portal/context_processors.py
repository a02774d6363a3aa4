"""Template context every page gets: `brand`, the white label of the provider the page belongs to."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from portal.branding import brand_for_request


def brand(request: HttpRequest) -> dict:
    """Lazy: computed once per request, and only by a template that shows it."""
    return {"brand": SimpleLazyObject(lambda: brand_for_request(request))}
