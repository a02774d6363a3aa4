"""Demo second factor: `make run`'s staff are enrolled with one fixed, public TOTP secret so a newcomer can sign in
(`python manage.py demo_totp EMAIL` prints the current code). Never in production: the secret is in this file."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.models import Provider, ProviderMembership

# 20 bytes, hex, public on purpose (base32: the same key for an authenticator app, see demo_totp --secret).
DEMO_TOTP_KEY_HEX = "6d696e696e672d706f7274616c2d64656d6f2d3031"


def demo_refuse_in_production() -> None:
    if settings.IS_PRODUCTION:
        raise ImproperlyConfigured("The demo second factor uses a public secret; it never runs in production.")


def demo_second_factor_enrol(*, provider: Provider) -> int:
    """Give every staff member of the demo provider a confirmed authenticator with the demo key (idempotent)."""
    demo_refuse_in_production()
    enrolled = 0
    for membership in ProviderMembership.objects.filter(provider=provider).select_related("user"):
        device = TOTPDevice.objects.filter(user=membership.user, confirmed=True).first()
        if device is None:
            TOTPDevice.objects.create(user=membership.user, name="Demo authenticator", key=DEMO_TOTP_KEY_HEX,
                                      confirmed=True)
            enrolled += 1
    return enrolled
