"""A provider's white label: the name, logo, colours, favicon, support contact, e-mail sender and own domain its
staff and customers see instead of "Mining portal".

One row per provider (none: the platform's own look). The images are kept in the database as PNG bytes that the
portal re-encoded itself (tenants/brand.py), so they are served by us from any host without a media store, and
whatever was uploaded (an SVG with a script, a polyglot file) never reaches a browser as it was sent.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models

from tenants.models.providers import Provider

colour_validator = RegexValidator(r"^#[0-9a-f]{6}$", "Give a colour as #rrggbb (six hex digits), e.g. #0b6bcb.")


class ProviderBrand(models.Model):
    """What a provider's portal looks like and who its e-mail comes from. Provider-wide: customers never edit it."""

    TENANT_CUSTOMER_FIELD = None

    provider = models.OneToOneField(Provider, on_delete=models.CASCADE, related_name="brand")
    display_name = models.CharField(max_length=100, blank=True, help_text="Shown instead of the provider's name.")
    accent_colour = models.CharField(max_length=7, blank=True, validators=[colour_validator])
    accent_text_colour = models.CharField(max_length=7, default="#ffffff", validators=[colour_validator])
    logo_png = models.BinaryField(blank=True, default=b"", editable=False)
    favicon_png = models.BinaryField(blank=True, default=b"", editable=False)
    support_email = models.EmailField(blank=True)
    support_phone = models.CharField(max_length=40, blank=True)
    support_url = models.URLField(max_length=200, blank=True)
    email_from_name = models.CharField(max_length=100, blank=True)
    email_from_address = models.EmailField(blank=True)
    # NULL when unset, so many providers can have none while a set one is unique across the platform.
    custom_domain = models.CharField(max_length=253, null=True, blank=True, unique=True)
    version = models.PositiveIntegerField(default=1, help_text="Bumped on every change: the assets' cache buster.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~models.Q(custom_domain=""), name="provider_brand_domain_null_not_empty"),
        ]

    def __str__(self) -> str:
        return f"Brand of {self.provider_id}: {self.display_name or '(provider name)'}"
