"""The "Brand" section of the staff Settings page: the provider's white label (owners and admins edit it).

The section is part of the Settings page (portal/views/staff/settings.py renders it with `brand_section`); its
forms post here, and a refused form is shown again on the Settings page with its errors, field by field.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect

from portal.access_forms import form_errors_from
from portal.views.access_common import scope_or_404
from tenants import selectors
from tenants.access import Capability, Scope, scoped
from tenants.brand import brand_for
from tenants.models.brand import ProviderBrand
from tenants.services.brand import BRAND_TEXT_FIELDS, provider_brand_image_set, provider_brand_set

_colour = {"type": "color"}


class BrandForm(forms.Form):
    display_name = forms.CharField(required=False, max_length=100, label="Name shown to your customers",
                                   help_text="Empty: your provider's name.")
    accent_colour = forms.CharField(required=False, max_length=7, label="Accent colour (buttons, links)",
                                    help_text="As #rrggbb; empty: the portal's blue.")
    accent_text_colour = forms.CharField(required=False, max_length=7, label="Text colour on the accent",
                                         help_text="Usually #ffffff. Both must meet WCAG AA contrast (4.5:1).")
    support_email = forms.EmailField(required=False, label="Support e-mail")
    support_phone = forms.CharField(required=False, max_length=40, label="Support phone")
    support_url = forms.URLField(required=False, max_length=200, label="Support web page", assume_scheme="https")
    email_from_name = forms.CharField(required=False, max_length=100, label="E-mail sender name",
                                      help_text="Empty: the name above.")
    email_from_address = forms.EmailField(required=False, label="E-mail sender address",
                                          help_text="Your mail server must be allowed to send as it (SPF, DKIM); "
                                                    "empty: the platform's address.")
    custom_domain = forms.CharField(required=False, max_length=253, label="Your own domain",
                                    help_text="e.g. portal.example.com, pointed (CNAME) at this portal. Its sign-in "
                                              "page shows your brand and only your people can sign in there.")


class BrandImageForm(forms.Form):
    logo = forms.FileField(required=False, label="Logo (PNG, JPEG, GIF or WebP, up to 512 KB)")
    favicon = forms.FileField(required=False, label="Favicon (PNG or ICO, up to 128 KB)")


def brand_section(scope: Scope, provider, *, form: BrandForm | None = None,
                  image_form: BrandImageForm | None = None) -> dict:
    """The Settings page's context for the Brand section."""
    row = scoped(ProviderBrand, scope).defer("logo_png", "favicon_png").first()
    initial = {k: (getattr(row, k) or "") for k in BRAND_TEXT_FIELDS} if row else {"accent_text_colour": "#ffffff"}
    return {"brand_form": form or BrandForm(initial=initial), "brand_image_form": image_form or BrandImageForm(),
            "provider_brand": brand_for(provider)}


def _settings_again(request: HttpRequest, scope: Scope, **section) -> HttpResponse:
    from portal.views.staff.settings import settings_page

    return settings_page(request, scope, brand=brand_section(scope, selectors.provider_get(scope=scope), **section),
                         status=400)


@login_required
def brand_save(request: HttpRequest, provider_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    scope.require(Capability.MANAGE_CREDENTIALS)
    form = BrandForm(request.POST)
    if form.is_valid():
        try:
            provider_brand_set(scope=scope, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_from(form, exc)
        else:
            messages.success(request, "Saved your brand.")
            return redirect("staff:settings", provider_slug=provider_slug)
    return _settings_again(request, scope, form=form)


@login_required
def brand_images(request: HttpRequest, provider_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    scope.require(Capability.MANAGE_CREDENTIALS)
    form = BrandImageForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            done = []
            for kind in ("logo", "favicon"):
                upload = form.cleaned_data.get(kind)
                if upload:
                    provider_brand_image_set(scope=scope, kind=kind, data=upload.read())
                    done.append(kind)
                elif request.POST.get(f"remove_{kind}"):
                    provider_brand_image_set(scope=scope, kind=kind, data=None)
                    done.append(f"{kind} removed")
        except ValidationError as exc:
            form_errors_from(form, exc)
        else:
            messages.success(request, "Saved: " + (", ".join(done) if done else "nothing changed") + ".")
            return redirect("staff:settings", provider_slug=provider_slug)
    return _settings_again(request, scope, image_form=form)
