"""The headers every response carries (issue 15): a strict Content-Security-Policy, a Permissions-Policy, and
`Cache-Control: no-store` on whatever is personal (signed-in pages, API answers to a token, downloads).

Why so strict: the portal shows money and payout addresses, so an injected script must have nowhere to run and a
shared browser or proxy nowhere to keep a page. Every script and style is a file under /static/ (the charts'
data is a `json_script` block, which is data, not script); htmx is told not to inject its indicator `<style>`
(templates/portal/_assets.html) and the indicator rules live in portal.css; the API docs are Swagger UI from
drf-spectacular-sidecar with its start-up script served as a file (SpectacularSwaggerSplitView). So no directive
needs `'unsafe-inline'`, `'unsafe-eval'` or a nonce. `img-src data:` is for the `data:` favicon and the small
SVG icons inside Swagger UI's stylesheet. docs/SECURITY.md has the rules and the tests that prove them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from csp.constants import NONE, SELF

if TYPE_CHECKING:  # settings import this module: it must not pull Django's HTTP layer in that early
    from django.http import HttpRequest, HttpResponse

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Powerful browser features the portal never uses, switched off for it and anything it could ever embed. Only
# names Chromium knows (an unknown one is a console warning on every page). Clipboard writing stays allowed:
# the "Copy" buttons use it.
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "autoplay", "camera", "display-capture", "encrypted-media", "geolocation", "gyroscope",
    "hid", "idle-detection", "magnetometer", "microphone", "midi", "payment", "picture-in-picture",
    "publickey-credentials-get", "screen-wake-lock", "serial", "usb", "xr-spatial-tracking",
))

# What a browser saves as a file: never cached, whoever asked for it.
_DOWNLOAD_TYPES = ("text/csv", "application/pdf", "application/zip",
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _is_personal(request: HttpRequest) -> bool:
    """A signed-in session, or a request that presented credentials (an API token)."""
    user = getattr(request, "user", None)
    return bool((user is not None and user.is_authenticated) or request.META.get("HTTP_AUTHORIZATION"))


def _is_download(response: HttpResponse) -> bool:
    return (response.get("Content-Disposition", "").lower().startswith("attachment")
            or response.get("Content-Type", "").split(";")[0].strip().lower() in _DOWNLOAD_TYPES)


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response; `Cache-Control: no-store` on personal responses and on downloads.

    It replaces any weaker Cache-Control a view set: a personal page must not be kept by a browser's back-forward
    cache on a shared machine, nor by a proxy. Static files never reach this (WhiteNoise answers them earlier),
    so they stay cacheable.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if _is_personal(request) or _is_download(response):
            response["Cache-Control"] = "no-store"
            response.headers.pop("Expires", None)
        return response
