"""The own security page: enrol an authenticator (QR code drawn here), recovery codes (shown once), turn the
optional second factor off (customers only), and the user's security trail. Changing an existing second factor
asks for the password and a current code (the rules are in tenants.services.two_factor)."""

from __future__ import annotations

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.access_forms import CodeForm, StepUpForm, form_errors_from
from portal.views.accounts.auth import safe_next
from tenants.access_selectors import security_event_list_for_user
from tenants.services import two_factor

SECURITY_EVENTS_PER_PAGE = 20


def _security_page(request: HttpRequest, *, regenerate_form: StepUpForm | None = None,
                   disable_form: StepUpForm | None = None) -> HttpResponse:
    user = request.user
    events = Paginator(security_event_list_for_user(user=user), SECURITY_EVENTS_PER_PAGE)
    return render(request, "portal/accounts/security.html", {
        "has_second_factor": two_factor.user_has_second_factor(user),
        "needs_second_factor": two_factor.user_needs_second_factor(user),
        "recovery_codes_left": two_factor.recovery_codes_left(user=user),
        # Two forms on one page: the same field names, their own element ids.
        "regenerate_form": regenerate_form or StepUpForm(auto_id="id_regenerate_%s"),
        "disable_form": disable_form or StepUpForm(auto_id="id_disable_%s"),
        "events": events.get_page(request.GET.get("page")),
    })


@never_cache
@login_required
def security(request: HttpRequest) -> HttpResponse:
    return _security_page(request)


@never_cache
@login_required
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Scan, then type a code. Reached before any other page by staff who have no authenticator yet.

    Moving to a new phone (an authenticator is already confirmed) also asks for the password and a current code:
    a borrowed session alone must not swap the second factor."""
    user = request.user
    replacing = two_factor.user_has_second_factor(user)
    form = CodeForm(request.POST or None)
    if replacing:
        form.fields.update(copy.deepcopy(StepUpForm.base_fields))
        form.fields["code"].label = "The code your new phone's app shows"
    device = two_factor.totp_device_pending(user=user)
    if request.method == "POST" and device is not None and form.is_valid():
        try:
            codes = two_factor.totp_device_confirm(user=user, code=form.cleaned_data["code"],
                                                   current_password=form.cleaned_data.get("current_password", ""),
                                                   current_code=form.cleaned_data.get("current_code", ""))
        except ValidationError as exc:
            form_errors_from(form, exc)
        else:
            request.session.cycle_key()
            device.refresh_from_db()  # confirmed by the service
            otp_login(request, device)
            return render(request, "portal/accounts/recovery_codes.html",
                          {"codes": codes, "next": safe_next(request, "/"), "first_time": True})
    if device is None or request.method == "GET":
        device = two_factor.totp_device_start(user=user)
    return _setup_page(request, form, device)


def _setup_page(request: HttpRequest, form: CodeForm, device: TOTPDevice) -> HttpResponse:
    return render(request, "portal/accounts/otp_setup.html", {
        "form": form,
        "qr_svg": two_factor.totp_qr_svg(device=device),
        "secret": two_factor.totp_secret_b32(device=device),
        "next": safe_next(request, ""),
        "required": two_factor.user_needs_second_factor(request.user),
    })


@never_cache
@login_required
def recovery_codes_regenerate(request: HttpRequest) -> HttpResponse:
    """New recovery codes, after the password and a current code; the old codes stop working."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not two_factor.user_has_second_factor(request.user):
        return redirect("accounts:security")
    form = StepUpForm(request.POST, auto_id="id_regenerate_%s")
    if form.is_valid():
        try:
            codes = two_factor.recovery_codes_regenerate(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_from(form, exc)
        else:
            return render(request, "portal/accounts/recovery_codes.html",
                          {"codes": codes, "next": "", "first_time": False})
    return _security_page(request, regenerate_form=form)


@never_cache
@login_required
def otp_disable(request: HttpRequest) -> HttpResponse:
    """A customer user turns the optional second factor off, after the password and a current code."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = StepUpForm(request.POST, auto_id="id_disable_%s")
    if form.is_valid():
        try:
            two_factor.second_factor_disable(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_from(form, exc)
        else:
            messages.success(request, "Two-factor authentication is off for your account.")
            return redirect("accounts:security")
    return _security_page(request, disable_form=form)
