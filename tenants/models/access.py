"""Models of accounts and access: invitations, a user's session generation, hashed recovery codes, security events.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin

from tenants.models.customers import Customer
from tenants.models.providers import Provider


class Invitation(models.Model):
    """A single-use, expiring link that makes its holder a member (staff of a provider, or user of a customer).

    Only a hash of the link's token is stored: the token itself exists in the e-mail and nowhere else, and is
    minted by the task that sends it (so a retried send replaces the link rather than leaking an old one).
    """

    TENANT_CUSTOMER_FIELD = "customer"

    class Kind(models.TextChoices):
        STAFF = "staff", "Provider staff"
        CUSTOMER = "customer", "Customer user"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    email = models.EmailField()
    role = models.CharField(max_length=16)
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["provider", "customer", "email"])]

    def __str__(self) -> str:
        where = self.customer.name if self.customer_id else self.provider.name
        return f"Invitation of {self.email} as {self.role} at {where}"

    def status(self, *, now=None) -> str:
        now = now or timezone.now()
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "pending"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class AccountSecurity(models.Model):
    """Per-user security state. `session_generation` is copied into every session at sign-in; raising it ends
    every session that carries an older number (sign out everywhere) on that session's next request."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_security")
    session_generation = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Security of {self.user}"


def _code_hash(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


class RecoveryCodeDevice(ThrottlingMixin, Device):
    """Single-use recovery codes as a django-otp device, stored salted and hashed.

    django-otp's own StaticToken keeps codes in plain text; a database leak must not hand out second factors,
    so each code (80 random bits) is kept as SHA-256 of a per-code salt and the code, and removed when used.
    """

    class Meta(Device.Meta):
        verbose_name = "recovery code set"

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1)

    def codes_generate(self, *, count: int) -> list[str]:
        """Replace every code with `count` new ones and return them: the only time they exist in clear."""
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read from paper without doubt
        codes = []
        with transaction.atomic():
            self.codes.all().delete()
            for _ in range(count):
                raw = "".join(secrets.choice(alphabet) for _ in range(16))
                salt = secrets.token_hex(8)
                RecoveryCode.objects.create(device=self, salt=salt, code_hash=_code_hash(salt, raw))
                codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
        return codes

    def verify_token(self, token: str) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        code = normalise_recovery_code(str(token))
        with transaction.atomic():
            for row in self.codes.select_for_update().order_by("pk"):
                if hmac.compare_digest(row.code_hash, _code_hash(row.salt, code)):
                    row.delete()  # a code works once
                    self.throttle_reset(commit=False)
                    self.save()
                    return True
        self.throttle_increment(commit=True)
        return False


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    salt = models.CharField(max_length=16)
    code_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"Recovery code of {self.device.user}"


class SecurityEvent(models.Model):
    """One personal security event of a user: their own trail, shown on their security page.

    Why its own table and not only the audit log: the audit log belongs to a tenant, while a password or a second
    factor belongs to the person across every tenant they are in (and to none, for a platform account). Each event
    is also written to the audit log of every tenant it concerns (`tenants.services.security_events`). `detail`
    holds facts only (how it was confirmed, how many codes), never a password, code, key or secret.
    """

    class Kind(models.TextChoices):
        SECOND_FACTOR_ENROL = "second_factor_enrol", "Two-factor authentication turned on"
        SECOND_FACTOR_REPLACE = "second_factor_replace", "Authenticator moved to a new device"
        SECOND_FACTOR_DISABLE = "second_factor_disable", "Two-factor authentication turned off"
        SECOND_FACTOR_RESET = "second_factor_reset", "Second factor reset by a teammate"
        RECOVERY_CODES_REGENERATE = "recovery_codes_regenerate", "New recovery codes made (the old ones stopped)"
        RECOVERY_CODE_USE = "recovery_code_use", "A recovery code was used"
        PASSWORD_CHANGE = "password_change", "Password changed"
        PASSWORD_RESET = "password_reset", "Password reset through the e-mailed link"
        SIGN_OUT_EVERYWHERE = "sign_out_everywhere", "Signed out everywhere"
        POOL_SECRET_ROTATE = "pool_secret_rotate", "A provider's pool API secret replaced"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="security_events")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "-at"], name="security_event_user_at")]

    DETAIL_LABELS = {"confirmed_with": "Confirmed with", "codes_issued": "New recovery codes",
                     "codes_left": "Recovery codes left", "by": "By", "provider": "Provider"}

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.kind}"

    @property
    def detail_lines(self) -> list[str]:
        """The detail as the security page shows it ("Confirmed with: recovery code")."""
        return [f"{self.DETAIL_LABELS.get(k, k)}: {v}" for k, v in (self.detail or {}).items()]
