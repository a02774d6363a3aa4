"""The user's own preferences: the time zone every page shows times in (see portal/timezones.py)."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from portal.access_forms import form_errors_from
from portal.timezones import remember_timezone, timezone_name_for_user
from tenants.selectors import user_timezone_own
from tenants.services.preferences import user_preference_set


@lru_cache(maxsize=1)
def zone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones())


class PreferencesForm(forms.Form):
    timezone = forms.CharField(
        label="Time zone", required=False, max_length=64,
        widget=forms.TextInput(attrs={"list": "zones", "autocomplete": "off", "placeholder": "e.g. Europe/Kyiv"}),
        help_text="Type a city or region (Asia/Tokyo, America/New_York, UTC). Empty: your provider's time zone.",
    )


@never_cache
@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    own = user_timezone_own(user=request.user)
    form = PreferencesForm(request.POST or None, initial={"timezone": own})
    if request.method == "POST" and form.is_valid():
        try:
            user_preference_set(user=request.user, timezone=form.cleaned_data["timezone"])
        except ValidationError as exc:
            form_errors_from(form, exc)
        else:
            name = timezone_name_for_user(request.user)
            remember_timezone(request, name)
            messages.success(request, f"Times are now shown in {name}.")
            return redirect("accounts:preferences")
    return render(request, "portal/accounts/preferences.html", {"form": form, "zones": zone_names(), "own": own})
