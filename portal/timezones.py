"""Each user's own time zone: which one applies, and turning what they type into UTC.

Times are stored in UTC. `UserTimezoneMiddleware` activates the user's zone for the whole request, so every
`{{ value|date }}` and `{{ value|when }}` in a template shows local time; charts get the zone's name in a
`data-tz` attribute. Forms that take a date and time (maintenance windows, …) must read the input in that zone:

    from portal.timezones import local_to_utc, user_timezone
    starts_at = local_to_utc(form.cleaned_data["starts_at"], user_timezone(request))

Django's form fields already parse a naive datetime in the *active* zone (the middleware's), so a form field's
value is aware and `local_to_utc` only moves it to UTC; a naive value (parsed by hand) is read in `tz`.
Which zone applies: the user's own setting (`tenants.UserPreference`), else the time zone of the provider they
work for (staff first, then as a customer user), else UTC. It is remembered in the session so a page costs no
extra query; saving the setting updates the session too.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from tenants.selectors import user_timezone_of_first_provider, user_timezone_own

SESSION_KEY = "portal_timezone"
API_PREFIX = "/api/"


def timezone_name_for_user(user) -> str:
    """The zone a user's pages are shown in (two queries at most; the middleware remembers the answer)."""
    if not getattr(user, "is_authenticated", False):
        return "UTC"
    return user_timezone_own(user=user) or user_timezone_of_first_provider(user=user) or "UTC"


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def user_timezone(request: HttpRequest) -> zoneinfo.ZoneInfo:
    """The zone this request's user reads and types times in."""
    session = getattr(request, "session", None)
    cached = session.get(SESSION_KEY) if session is not None else None
    if cached:
        return _zone(cached)
    user = getattr(request, "user", None)
    name = timezone_name_for_user(user)
    if session is not None and getattr(user, "is_authenticated", False):
        session[SESSION_KEY] = name
    return _zone(name)


def remember_timezone(request: HttpRequest, name: str) -> None:
    """After the user changed the setting: this session shows the new zone from the next page on."""
    request.session[SESSION_KEY] = name
    timezone.activate(_zone(name))


def local_to_utc(value: datetime, tz: zoneinfo.ZoneInfo | str) -> datetime:
    """A wall-clock time the user typed, in their zone, as an aware UTC datetime. An aware value is only moved
    to UTC. A time the clock skips or repeats there (a daylight-saving change) is refused in words rather than
    guessed: a maintenance window an hour off credits the wrong hour."""
    zone = _zone(tz) if isinstance(tz, str) else tz
    if not timezone.is_naive(value):
        return value.astimezone(UTC)
    first, second = value.replace(tzinfo=zone, fold=0), value.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        raise ValidationError(f"{value:%Y-%m-%d %H:%M} happens twice or not at all in {zone.key} (a daylight-saving "
                              "change); pick a time an hour away.")
    return first.astimezone(UTC)


class UserTimezoneMiddleware:
    """Activates the signed-in user's zone for the request (templates, forms); everyone else, and the REST API,
    sees UTC."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The REST API answers in UTC whoever calls it (machines compare instants; `Z` is its documented form).
        if request.path.startswith(API_PREFIX):
            timezone.deactivate()
        elif getattr(request, "user", None) is not None and request.user.is_authenticated:
            timezone.activate(user_timezone(request))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
