"""The platform operator console (/operator/): providers, a new provider, its first owner, its pool credentials.

Superusers only; everyone else gets the same 404 as a missing page (the console's existence is not advertised).
The second factor is required like on the staff console: the two-factor gate (portal/access_middleware.py) sends
an unverified superuser to the code page before any route, and this guard refuses again should it ever not.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import path, reverse

from portal.access_forms import form_errors_from
from tenants.access import UNSCOPED_across_all_tenants
from tenants.models import Provider, Upstream
from tenants.services.platform import (
    platform_credentials_set,
    platform_owner_invite,
    platform_owners_by_provider,
    platform_provider_create,
    platform_provider_people,
)


class ProviderForm(forms.Form):
    name = forms.CharField(max_length=200, label="Name")
    slug = forms.CharField(max_length=50, label="Short name in addresses (slug)",
                           help_text="Lowercase letters, digits and hyphens, e.g. alpha-hosting.")
    upstream_base_url = forms.CharField(max_length=200, label="Pool", initial=Upstream.PRODUCTION,
                                        help_text="https://whitebit.com or https://whitebit.eu.")
    timezone = forms.CharField(max_length=64, initial="UTC", label="Time zone", help_text="e.g. Europe/Kyiv.")


class OwnerInviteForm(forms.Form):
    email = forms.EmailField(label="Owner's e-mail")


class CredentialsForm(forms.Form):
    api_key = forms.CharField(required=False, max_length=200, label="WhiteBIT API key",
                              help_text="Blank keeps the current key.")
    api_secret = forms.CharField(required=False, max_length=500, strip=False, label="WhiteBIT API secret",
                                 widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                                 help_text="Write-only: never shown again. Blank keeps the current secret.")


def _operator_or_404(request: HttpRequest) -> None:
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_superuser):
        raise Http404("Not found")
    if not user.is_verified():  # the gate already redirected; never serve the console without the second factor
        raise Http404("Not found")


def _providers():
    return UNSCOPED_across_all_tenants(Provider, reason="the platform operator's list of providers").order_by("name")


@login_required
def operator_home(request: HttpRequest) -> HttpResponse:
    _operator_or_404(request)
    form = ProviderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            provider = platform_provider_create(operator=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_from(form, exc)
        else:
            messages.success(request, f"Created {provider.name}. Now invite its owner and set its pool credentials.")
            return redirect("operator:provider", slug=provider.slug)
    owners = platform_owners_by_provider()
    rows = [{"provider": p, "owners": owners.get(p.pk, [])} for p in _providers()]
    return render(request, "portal/operator/home.html", {"rows": rows, "form": form},
                  status=400 if form.errors else 200)


@login_required
def operator_provider(request: HttpRequest, slug: str) -> HttpResponse:
    _operator_or_404(request)
    provider = _providers().filter(slug=slug).first()
    if provider is None:
        raise Http404("Not found")
    invite_form, credentials_form = OwnerInviteForm(), CredentialsForm()
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "invite":
            invite_form = OwnerInviteForm(request.POST)
            if invite_form.is_valid():
                try:
                    platform_owner_invite(operator=request.user, provider=provider,
                                          email=invite_form.cleaned_data["email"])
                except ValidationError as exc:
                    form_errors_from(invite_form, exc)
                else:
                    messages.success(request, f"Invited {invite_form.cleaned_data['email']} as owner; the e-mail is on "
                                              "its way.")
                    return redirect("operator:provider", slug=slug)
        elif action == "credentials":
            credentials_form = CredentialsForm(request.POST)
            if credentials_form.is_valid():
                try:
                    platform_credentials_set(operator=request.user, provider=provider, **credentials_form.cleaned_data)
                except ValidationError as exc:
                    form_errors_from(credentials_form, exc)
                else:
                    messages.success(request, "Saved the pool credentials.")
                    return redirect("operator:provider", slug=slug)
        else:
            return HttpResponseNotAllowed(["GET"])
    invitations, owners = platform_provider_people(provider)
    return render(request, "portal/operator/provider.html", {
        "provider": provider, "invite_form": invite_form, "credentials_form": credentials_form,
        "invitations": invitations, "owners": owners, "home_url": reverse("operator:home"),
    }, status=400 if invite_form.errors or credentials_form.errors else 200)


urlpatterns = [
    path("", operator_home, name="home"),
    path("providers/<slug:slug>/", operator_provider, name="provider"),
]
