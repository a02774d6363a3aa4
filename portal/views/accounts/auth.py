"""Sign-in, the second-factor code page, sign out everywhere, password change and reset.

Thin: the rules are in tenants.services; these pages only move input there and answer in words.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login

from portal.access_forms import CodeForm, LoginForm, QueuedPasswordResetForm
from portal.access_middleware import ENDED_KEY
from portal.branding import request_host_brand
from tenants.services.passwords import password_change_record
from tenants.services.sessions import sessions_sign_out_everywhere
from tenants.services.two_factor import second_factor_verify

security_log = logging.getLogger("portal.security")

ENDED_MESSAGES = {
    "idle": "You were signed out after a while without activity. Sign in again to continue.",
    "absolute": "Your session reached its maximum length. Sign in again to continue.",
    "everywhere": "You were signed out on every device. Sign in again to continue.",
}


def safe_next(request: HttpRequest, fallback: str = "/") -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()},
                                                require_https=request.is_secure()):
        return nxt
    return fallback


class LoginView(auth_views.LoginView):
    """Django's sign-in (it rotates the session key); django-axes counts failures per (user, address)."""

    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = False

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        host_brand = request_host_brand(self.request)  # a provider's own domain: only its people sign in here
        form.only_provider_id = host_brand.provider_id if host_brand else None
        return form

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        reason = self.request.session.pop(ENDED_KEY, None)
        context["ended_message"] = ENDED_MESSAGES.get(reason or "")
        return context


@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    """The code page after the password: a code from the app, or one of the recovery codes."""
    if request.user.is_verified():
        return redirect(safe_next(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = second_factor_verify(user=request.user, code=form.cleaned_data["code"])
        if device is not None:
            request.session.cycle_key()  # a new privilege level, a new session key
            otp_login(request, device)
            return redirect(safe_next(request))
        security_log.warning("second factor refused for user %s", request.user.pk)
        form.add_error("code", "That code is not right, or it was already used. Wait for the next code and try "
                               "again; if you lost your phone, use one of your recovery codes.")
    return render(request, "portal/accounts/otp_verify.html", {"form": form, "next": safe_next(request, "")})


@login_required
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    sessions_sign_out_everywhere(user=request.user)
    logout(request)
    request.session[ENDED_KEY] = "everywhere"
    return redirect("login")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's change (it keeps this session and, through the new password hash, ends every other one)."""

    template_name = "portal/accounts/password_change.html"
    success_url = reverse_lazy("accounts:security")

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            password_change_record(user=form.user, by_reset=False)
        security_log.info("password changed by user %s", self.request.user.pk)
        messages.success(self.request, "Your password was changed. Your other sessions were signed out.")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    form_class = QueuedPasswordResetForm
    template_name = "portal/accounts/password_reset.html"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "portal/accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            password_change_record(user=form.user, by_reset=True)
        from axes.utils import reset as axes_reset

        axes_reset(username=form.user.username)  # a proven mailbox lifts the lockout for that account
        security_log.info("password reset by user %s", form.user.pk)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "portal/accounts/password_reset_complete.html"


def login_url_with_next(path: str) -> str:
    return f"{reverse('login')}?next={path}"
