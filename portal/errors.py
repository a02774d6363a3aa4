"""Domain errors mapped to pages once (the API's twin is portal/api/exceptions.py).

Services raise tenants.errors types; the pool's errors are `UpstreamUnavailable`s. A page view catches none of
them itself:
* `NotFound` / `NotAllowed` are Django's 404 / 403 (their templates);
* a form's own write puts a refusal or a pool error on the form (portal/views/once.py, `OnceForm.upstream_words`);
* a page action says it in a message on the page it returns to (portal/views/actions.py, `post_action`);
* any other pool error that escapes a page view is caught here (`UpstreamErrorMiddleware`): after a POST its words
  are shown on the page the user was on (a message, then a redirect there); a GET page is answered with the words
  and 503 (waiting helps) or 502 (it does not), never a 500.
`upstream_attempt` runs an optional pool call on a page that can do without it, and gives its words instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from tenants.errors import UpstreamUnavailable

T = TypeVar("T")


def error_words(exc: BaseException) -> str:
    """What a provider reads for a refusal or a pool error: the service's messages, or the pool error's words."""
    if isinstance(exc, UpstreamUnavailable):
        return exc.user_message
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def upstream_attempt(call: Callable[[], T]) -> tuple[T | None, str]:
    """Run an optional pool call: (its result, "") or (None, the words saying why it did not work)."""
    try:
        return call(), ""
    except (UpstreamUnavailable, ValidationError) as exc:
        return None, error_words(exc)


def _the_page_they_were_on(request: HttpRequest) -> str:
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        return referer
    return request.path


class UpstreamErrorMiddleware:
    """A pool error no page handled: its words on the page the user was on, instead of a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not isinstance(exc, UpstreamUnavailable) or request.path.startswith("/api/"):
            return None
        if request.method == "POST":
            messages.error(request, exc.user_message)
            return redirect(_the_page_they_were_on(request))
        return render(request, "upstream_error.html", {"message": exc.user_message},
                      status=503 if exc.retryable else 502)
