"""Two gates every signed-in request passes: the session is still good (timeouts, sign out everywhere), and the
user has passed their second factor (staff must have one before any page but enrolment).

They sit after Django's and django-otp's middleware, so `request.user` and `request.user.is_verified()` exist.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse

from tenants.services.sessions import SESSION_GENERATION_KEY, session_generation_get
from tenants.services.two_factor import user_has_second_factor, user_needs_second_factor

STARTED_KEY = "_access_started_at"
LAST_SEEN_KEY = "_access_last_seen_at"
ENDED_KEY = "_access_ended"  # why the last session ended, shown once on the sign-in page

# Pages a signed-in user who has not passed the second factor may still reach.
OPEN_BEFORE_SECOND_FACTOR = frozenset({
    "login", "logout", "healthz", "readyz",
    "accounts:otp_verify", "accounts:invitation_accept", "accounts:password_reset",
    "accounts:password_reset_done", "accounts:password_reset_confirm", "accounts:password_reset_complete",
    "brand_css", "brand_logo", "brand_favicon",  # the white label's public assets (the code page shows them)
})


LAST_SEEN_WRITE_EVERY_S = 60


def _is_staff_like(request: HttpRequest) -> bool:
    if not hasattr(request, "_access_staff_like"):
        request._access_staff_like = user_needs_second_factor(request.user)
    return request._access_staff_like


class SessionSecurityMiddleware:
    """Ends a session that was idle too long, is older than the absolute limit, or predates "sign out everywhere".

    A deactivated user is already signed out by Django (inactive users have no session user), and a removed
    membership takes effect because every view resolves its scope from the memberships on each request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            reason = self._ended_because(request, now=time.time())
            if reason:
                logout(request)
                request.session[ENDED_KEY] = reason
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and STARTED_KEY not in request.session:
            self._start(request, now=time.time())  # the request that signed in
        return response

    @staticmethod
    def _start(request: HttpRequest, *, now: float) -> None:
        request.session[STARTED_KEY] = now
        request.session[LAST_SEEN_KEY] = now
        request.session[SESSION_GENERATION_KEY] = session_generation_get(user_id=request.user.pk)

    def _ended_because(self, request: HttpRequest, *, now: float) -> str:
        session = request.session
        if STARTED_KEY not in session:
            self._start(request, now=now)
            return ""
        if session.get(SESSION_GENERATION_KEY, 0) != session_generation_get(user_id=request.user.pk):
            return "everywhere"
        staff = _is_staff_like(request)
        idle = settings.ACCESS_STAFF_IDLE_TIMEOUT_S if staff else settings.ACCESS_CUSTOMER_IDLE_TIMEOUT_S
        if now - float(session.get(LAST_SEEN_KEY, 0)) > idle:
            return "idle"
        if now - float(session[STARTED_KEY]) > settings.ACCESS_ABSOLUTE_TIMEOUT_S:
            return "absolute"
        if now - float(session.get(LAST_SEEN_KEY, 0)) >= LAST_SEEN_WRITE_EVERY_S:
            # At most once a minute: writing the session on every page was one UPDATE per request (a measurable
            # share of a page's time, docs/BENCHMARKS.md §6); the idle limits are then exact to within a minute.
            session[LAST_SEEN_KEY] = now
        return ""


class TwoFactorGateMiddleware:
    """Staff without a confirmed authenticator go to enrolment; anyone with one goes to the code page until they
    pass it. Covers every route, the Django admin included, so a new staff page cannot forget the check."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not user.is_verified():
            redirect_to = self._redirect_for(request)
            if redirect_to:
                return redirect_to
        return self.get_response(request)

    @staticmethod
    def _redirect_for(request: HttpRequest) -> HttpResponse | None:
        if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return None
        try:
            name = resolve(request.path_info).view_name
        except Resolver404:
            return None
        if name in OPEN_BEFORE_SECOND_FACTOR:
            return None
        nxt = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
        if user_has_second_factor(request.user):
            return HttpResponseRedirect(reverse("accounts:otp_verify") + (f"?{nxt}" if nxt else ""))
        if _is_staff_like(request):
            if name == "accounts:otp_setup":
                return None
            return HttpResponseRedirect(reverse("accounts:otp_setup") + (f"?{nxt}" if nxt else ""))
        return None
