"""The second factor: TOTP enrolment with a QR code we draw ourselves, verification that refuses a replayed code,
recovery codes shown once and stored hashed, and a teammate's reset (audited)."""

from __future__ import annotations

import logging
from typing import Any

import segno
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.access import Capability, Scope
from tenants.audit import audit_record
from tenants.models import ProviderMembership, RecoveryCodeDevice
from tenants.services.sessions import sessions_end_all
from tenants.services.user_powers import user_power_require

security_log = logging.getLogger("portal.security")
TOTP_NAME = "Authenticator app"


def user_needs_second_factor(user: Any) -> bool:
    """Provider staff and platform admins must use a second factor; customer users may choose to."""
    return bool(user.is_staff or user.is_superuser or ProviderMembership.objects.filter(user=user).exists())


def user_has_second_factor(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@transaction.atomic
def totp_device_start(*, user: Any) -> TOTPDevice:
    """A fresh unconfirmed device (its secret replaces any half-finished enrolment); confirmed ones stay."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


def totp_device_pending(*, user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def totp_qr_svg(*, device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG, drawn here: the secret never goes to a third-party QR service."""
    return segno.make(device.config_url, error="m").svg_inline(scale=5, dark="#1b1f24", light="#ffffff")


def totp_secret_b32(*, device: TOTPDevice) -> str:
    import base64

    return base64.b32encode(device.bin_key).decode()


def _verify_locked(device: TOTPDevice | RecoveryCodeDevice, code: str) -> bool:
    # The row lock makes "a code works once" hold under concurrent requests too: the second waits, then sees the
    # advanced last_t (or the deleted recovery code) and fails.
    locked = type(device).objects.select_for_update().get(pk=device.pk)
    return locked.verify_token(code)


@transaction.atomic
def totp_device_confirm(*, user: Any, code: str) -> list[str]:
    """Confirm the pending device with a code from the app; returns new recovery codes (shown once)."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        raise ValidationError({"code": "Start the set-up again: no authenticator is waiting to be confirmed."})
    if not device.verify_token(_digits(code)):
        raise ValidationError({"code": "That code is not right. Check the time on your phone and try the next one."})
    TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    security_log.info("second factor enrolled for user %s", user.pk)
    return recovery_codes_regenerate(user=user)


@transaction.atomic
def recovery_codes_regenerate(*, user: Any) -> list[str]:
    device, _ = RecoveryCodeDevice.objects.get_or_create(user=user, defaults={"name": "Recovery codes",
                                                                              "confirmed": True})
    return device.codes_generate(count=settings.ACCESS_RECOVERY_CODE_COUNT)


def recovery_codes_left(*, user: Any) -> int:
    device = RecoveryCodeDevice.objects.filter(user=user).first()
    return device.codes.count() if device else 0


def _digits(code: str) -> str:
    return "".join(ch for ch in str(code) if not ch.isspace())


def second_factor_verify(*, user: Any, code: str) -> TOTPDevice | RecoveryCodeDevice | None:
    """The device that accepts `code` (a TOTP code or a recovery code), or None. Each code works once."""
    code = _digits(code)
    if not code:
        return None
    if code.isdigit():
        for device in TOTPDevice.objects.filter(user=user, confirmed=True):
            with transaction.atomic():
                if _verify_locked(device, code):
                    return device
        return None
    for device in RecoveryCodeDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(code):
            security_log.info("recovery code used by user %s", user.pk)
            return device
    return None


@transaction.atomic
def second_factor_disable(*, user: Any) -> None:
    """A customer user turns their optional second factor off; staff cannot (it is required for them)."""
    if user_needs_second_factor(user):
        raise ValidationError("Provider staff must keep a second factor.")
    TOTPDevice.objects.filter(user=user).delete()
    RecoveryCodeDevice.objects.filter(user=user).delete()
    security_log.info("second factor removed by user %s", user.pk)


def staff_second_factor_reset(*, scope: Scope, user_id: int) -> None:
    """A teammate with manage_staff removes a colleague's lost second factor: they enrol again at next sign-in.

    Refused for oneself (use the own security page) and for anyone who is not wholly this provider's (a member
    elsewhere, or a platform administrator): the devices are the user's, for every membership they hold
    (`tenants.services.user_powers`).
    """
    scope.require(Capability.MANAGE_STAFF)
    membership = ProviderMembership.objects.select_related("user").filter(provider_id=scope.provider_id,
                                                                         user_id=user_id).first()
    if membership is None:
        raise Http404("Not found")
    if user_id == scope.user_id:
        raise ValidationError("Reset your own second factor from your security page.")
    user = membership.user
    user_power_require(scope=scope, user=user, action="user.second_factor_reset")
    with transaction.atomic():
        had = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        TOTPDevice.objects.filter(user=user).delete()
        RecoveryCodeDevice.objects.filter(user=user).delete()
        sessions_end_all(user_id=user.pk, reason="second factor reset by a teammate")
        audit_record(scope=scope, action="user.second_factor_reset", target=user, object_repr=user.email,
                     before={"second_factor": had}, after={"second_factor": False})
