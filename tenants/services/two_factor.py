"""The second factor: TOTP enrolment with a QR code we draw ourselves, verification that refuses a replayed code,
recovery codes shown once and stored hashed, and a teammate's reset (audited).

Changing an existing second factor (new recovery codes, turning it off, moving to a new phone) needs the password
and a current code (`second_factor_step_up`), because a session can be borrowed; each change is a personal security
event (`tenants.services.security_events`)."""

from __future__ import annotations

import logging
import math
from typing import Any

import segno
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.access import Capability, Scope
from tenants.audit import audit_actor_label, audit_record
from tenants.errors import NotFound
from tenants.models import ProviderMembership, RecoveryCodeDevice, SecurityEvent
from tenants.services.security_events import security_event_record
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


def _confirmed_with(device: TOTPDevice | RecoveryCodeDevice) -> str:
    return "recovery code" if isinstance(device, RecoveryCodeDevice) else "authenticator code"


def totp_device_confirm(*, user: Any, code: str, current_password: str = "", current_code: str = "") -> list[str]:
    """Confirm the pending device with a code from the app; returns new recovery codes (shown once).

    Replacing a confirmed authenticator (a new phone) needs the password and a current code as well
    (`second_factor_step_up`), so a borrowed session cannot move the factor to the borrower's phone. The new
    device's code is checked before the current code is spent, so a mistyped new code costs no recovery code.
    """
    replacing = user_has_second_factor(user)
    if totp_device_pending(user=user) is None:
        raise ValidationError({"code": "Start the set-up again: no authenticator is waiting to be confirmed."})
    if replacing:
        _step_up_password(user=user, password=current_password)
    _throttle_refuse([totp_device_pending(user=user)], field="code")
    with transaction.atomic():  # commits a failed try's throttling: the refusal is raised after the block
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-pk").first()
        right = device is not None and device.verify_token(_digits(code))
    if not right:
        raise ValidationError({"code": "That code is not right. Check the time on your phone and try the next one."})
    proof = _step_up_code(user=user, code=current_code) if replacing else None
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(pk=device.pk, confirmed=False).first()
        if device is None:  # another tab started (or finished) a set-up meanwhile
            raise ValidationError({"code": "Start the set-up again: no authenticator is waiting to be confirmed."})
        TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = recovery_codes_issue(user=user)
        if replacing:
            security_event_record(user=user, kind=SecurityEvent.Kind.SECOND_FACTOR_REPLACE,
                                  detail={"confirmed_with": _confirmed_with(proof), "codes_issued": len(codes)})
        else:
            security_event_record(user=user, kind=SecurityEvent.Kind.SECOND_FACTOR_ENROL,
                                  detail={"codes_issued": len(codes)})
    security_log.info("second factor %s for user %s", "replaced" if replacing else "enrolled", user.pk)
    return codes


@transaction.atomic
def recovery_codes_issue(*, user: Any) -> list[str]:
    """New codes, the old ones void. No checks: only for enrolment, which proved itself (and for tests)."""
    device, _ = RecoveryCodeDevice.objects.get_or_create(user=user, defaults={"name": "Recovery codes",
                                                                              "confirmed": True})
    return device.codes_generate(count=settings.ACCESS_RECOVERY_CODE_COUNT)


def recovery_codes_regenerate(*, user: Any, current_password: str, current_code: str) -> list[str]:
    """The user asks for new recovery codes: the password and a current code first (the old codes stop)."""
    if not user_has_second_factor(user):
        raise ValidationError("Turn two-factor authentication on first: recovery codes come with it.")
    proof = second_factor_step_up(user=user, current_password=current_password, current_code=current_code)
    with transaction.atomic():
        codes = recovery_codes_issue(user=user)
        security_event_record(user=user, kind=SecurityEvent.Kind.RECOVERY_CODES_REGENERATE,
                              detail={"confirmed_with": _confirmed_with(proof), "codes_issued": len(codes)})
    return codes


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
        with transaction.atomic():
            if device.verify_token(code):
                security_event_record(user=user, kind=SecurityEvent.Kind.RECOVERY_CODE_USE,
                                      detail={"codes_left": device.codes.count()})
                security_log.info("recovery code used by user %s", user.pk)
                return device
    return None


WRONG_PASSWORD = "That is not your current password."
WRONG_CODE = ("That code is not right, or it was already used. Type the code your authenticator shows now, or one "
              "of your unused recovery codes.")


def _devices(user: Any) -> list[TOTPDevice | RecoveryCodeDevice]:
    return [*TOTPDevice.objects.filter(user=user, confirmed=True),
            *RecoveryCodeDevice.objects.filter(user=user, confirmed=True)]


def _throttle_refuse(devices: list, *, field: str) -> None:
    """Say how long to wait while django-otp's throttling holds any of the devices (a try now would fail)."""
    for device in devices:
        allowed, info = device.verify_is_allowed() if device is not None else (True, None)
        if not allowed:
            until = (info or {}).get("locked_until")
            wait = max(1, math.ceil((until - timezone.now()).total_seconds())) if until else 1
            raise ValidationError({field: f"Too many wrong tries: wait {wait} second{'s' * (wait != 1)}, then "
                                          "try again."})


def _step_up_password(*, user: Any, password: str) -> None:
    """Refuse while a device is throttled; a wrong password counts as a failed try on every device (django-otp's
    throttling), so a borrowed session cannot guess the password here any faster than it could guess codes."""
    devices = _devices(user)
    _throttle_refuse(devices, field="current_code")
    if not password:
        raise ValidationError({"current_password": "Type your current password."})
    if not user.check_password(password):
        for device in devices:
            with transaction.atomic():  # re-read under lock: saving a stale row could roll back last_t (replays)
                type(device).objects.select_for_update().get(pk=device.pk).throttle_increment(commit=True)
        security_log.warning("second-factor change refused for user %s: wrong password", user.pk)
        raise ValidationError({"current_password": WRONG_PASSWORD})


def _step_up_code(*, user: Any, code: str) -> TOTPDevice | RecoveryCodeDevice:
    if not _digits(code or ""):
        raise ValidationError({"current_code": "Type the code your authenticator shows now, or a recovery code."})
    device = second_factor_verify(user=user, code=code)
    if device is None:
        security_log.warning("second-factor change refused for user %s: wrong code", user.pk)
        raise ValidationError({"current_code": WRONG_CODE})
    return device


def second_factor_step_up(*, user: Any, current_password: str, current_code: str) -> TOTPDevice | RecoveryCodeDevice:
    """Prove it is the person and not only their session before the second factor changes: the password, then a
    current code (TOTP, once per time step, or an unused recovery code, which is spent). Field errors in words;
    on a wrong password no code is checked (nor spent). Returns the device that accepted the code."""
    _step_up_password(user=user, password=current_password)
    return _step_up_code(user=user, code=current_code)


def second_factor_disable(*, user: Any, current_password: str, current_code: str) -> None:
    """A customer user turns their optional second factor off; staff cannot (it is required for them)."""
    if user_needs_second_factor(user):
        raise ValidationError("Provider staff must keep a second factor.")
    if not user_has_second_factor(user):
        raise ValidationError("Two-factor authentication is already off.")
    proof = second_factor_step_up(user=user, current_password=current_password, current_code=current_code)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        RecoveryCodeDevice.objects.filter(user=user).delete()
        security_event_record(user=user, kind=SecurityEvent.Kind.SECOND_FACTOR_DISABLE,
                              detail={"confirmed_with": _confirmed_with(proof)})
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
        raise NotFound("Not found")
    if user_id == scope.user_id:
        raise ValidationError("Reset your own second factor from your security page.")
    user = membership.user
    user_power_require(scope=scope, user=user, action="user.second_factor_reset")
    with transaction.atomic():
        had = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        TOTPDevice.objects.filter(user=user).delete()
        RecoveryCodeDevice.objects.filter(user=user).delete()
        sessions_end_all(user_id=user.pk, reason="second factor reset by a teammate")
        # The acting tenant's entry is written below; the user is wholly this tenant's, so no other log is concerned.
        security_event_record(user=user, kind=SecurityEvent.Kind.SECOND_FACTOR_RESET,
                              detail={"by": audit_actor_label(scope)}, tenant_scopes=[])
        audit_record(scope=scope, action="user.second_factor_reset", target=user, object_repr=user.email,
                     before={"second_factor": had}, after={"second_factor": False})
