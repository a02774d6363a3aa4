"""The own security page: enrol an authenticator (QR code drawn here), recovery codes (shown once), turn the
optional second factor off (customers only)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.access_forms import CodeForm, form_errors_from
from portal.views.accounts.auth import safe_next
from tenants.services import two_factor


@never_cache
@login_required
def security(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(request, "portal/accounts/security.html", {
        "has_second_factor": two_factor.user_has_second_factor(user),
        "needs_second_factor": two_factor.user_needs_second_factor(user),
        "recovery_codes_left": two_factor.recovery_codes_left(user=user),
    })


@never_cache
@login_required
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Scan, then type a code. Reached before any other page by staff who have no authenticator yet."""
    user = request.user
    replacing = two_factor.user_has_second_factor(user)
    form = CodeForm(request.POST or None)
    if replacing:  # moving to a new phone: a borrowed session alone must not swap the second factor
        form.fields["current_password"] = _current_password_field()
    device = two_factor.totp_device_pending(user=user)
    if request.method == "POST" and device is not None and form.is_valid():
        if replacing and not user.check_password(form.cleaned_data["current_password"]):
            form.add_error("current_password", "That is not your current password.")
            return _setup_page(request, form, device)
        try:
            codes = two_factor.totp_device_confirm(user=user, code=form.cleaned_data["code"])
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


def _current_password_field() -> forms.CharField:
    return forms.CharField(label="Your current password", strip=False,
                           widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


@never_cache
@login_required
def recovery_codes_regenerate(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not two_factor.user_has_second_factor(request.user):
        return redirect("accounts:security")
    codes = two_factor.recovery_codes_regenerate(user=request.user)
    return render(request, "portal/accounts/recovery_codes.html", {"codes": codes, "next": "", "first_time": False})


@login_required
def otp_disable(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not request.user.check_password(request.POST.get("current_password", "")):
        messages.error(request, "Two-factor authentication stays on: that is not your current password.")
        return redirect("accounts:security")
    try:
        two_factor.second_factor_disable(user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Two-factor authentication is off for your account.")
    return redirect("accounts:security")
