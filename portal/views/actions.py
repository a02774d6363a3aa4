"""`post_action`: the one shape of a page action (a button that POSTs one service call, then goes back).

The view resolves the scope and the object first (an outsider gets the 404 before learning which methods the route
takes), then hands the rest here: POST only (405 otherwise), run the service, say its success or its refusal (a
field error or a pool error, in the service's words, see portal/errors.py) as a message, and redirect.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from portal.errors import error_words
from tenants.errors import UpstreamUnavailable


def post_action(request: HttpRequest, action: Callable[[], str | tuple[str, str]], *, back: str,
                refused: str = "") -> HttpResponse:
    """Run `action()` for a POST and redirect to `back` with its message.

    `action` returns what to say (or `(what to say, where to go)` when success goes elsewhere); a refusal it
    raises (`ValidationError` / `tenants.errors.Invalid`, or a pool error) is said instead, after `refused`.
    """
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        done = action()
    except (ValidationError, UpstreamUnavailable) as exc:
        messages.error(request, f"{refused}{error_words(exc)}")
        return redirect(back)
    message, to = done if isinstance(done, tuple) else (done, back)
    messages.success(request, message)
    return redirect(to)


def posted_next(request: HttpRequest, fallback: str) -> str:
    """Back to the list the form was posted from (its filters kept, `next`), only ever on this site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback
