"""The tenant root: a Provider (a hosting company), with its pool credentials (encrypted) and its settings.

Every tenant-owned model elsewhere carries `provider` (and `customer` where it belongs to one) and declares
`TENANT_CUSTOMER_FIELD` so that `tenants.access.scoped()` can filter it; see that module.
"""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from tenants.crypto import secret_decrypt, secret_encrypt
from tenants.validators import validate_upstream_url

PAYOUT_HOLD_HOURS_MIN, PAYOUT_HOLD_HOURS_MAX = 0, 72


slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    "Use 1–50 lowercase letters, digits and hyphens, not starting or ending with a hyphen.",
)


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a known time zone (e.g. Europe/Kyiv, UTC).")


class Upstream(models.TextChoices):
    PRODUCTION = "https://whitebit.com", "WhiteBIT (whitebit.com)"
    EU = "https://whitebit.eu", "WhiteBIT EU (whitebit.eu)"


class Provider(models.Model):
    """A hosting provider: the tenant root. Holds the WhiteBIT API credentials its pool accounts live under."""

    TENANT_CUSTOMER_FIELD = None

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=50, unique=True, validators=[slug_validator])
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    upstream_base_url = models.URLField(
        max_length=200,
        default=Upstream.PRODUCTION,
        help_text="https://whitebit.com, https://whitebit.eu, or the URL of a sandbox pool.",
    )
    whitebit_api_key = models.CharField(max_length=200, blank=True)
    # Fernet token of the API secret; never the plaintext. Use set_api_secret()/reveal_api_secret().
    api_secret_ciphertext = models.TextField(blank=True, editable=False)
    customers_may_change_payout = models.BooleanField(
        default=False, help_text="Customer admins may change their accounts' payout destination themselves."
    )
    payout_hold_hours = models.PositiveSmallIntegerField(
        default=24, validators=[MinValueValidator(PAYOUT_HOLD_HOURS_MIN), MaxValueValidator(PAYOUT_HOLD_HOURS_MAX)],
        help_text="How long a confirmed payout change waits, cancelable, before it is sent to the pool (0–72 h).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(payout_hold_hours__lte=PAYOUT_HOLD_HOURS_MAX),
                                   name="tenants_provider_payout_hold_max"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean_fields(self, exclude=None) -> None:
        """Field validation plus where the upstream pool may live (tenants/validators.py says why)."""
        errors: dict = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if "upstream_base_url" not in (exclude or ()) and "upstream_base_url" not in errors:
            try:
                validate_upstream_url(self.upstream_base_url)
            except ValidationError as exc:
                errors["upstream_base_url"] = exc.error_list
        if errors:
            raise ValidationError(errors)

    def set_api_secret(self, plaintext: str) -> None:
        """Store a new secret encrypted; an empty value clears it."""
        self.api_secret_ciphertext = secret_encrypt(plaintext) if plaintext else ""

    @property
    def has_api_secret(self) -> bool:
        return bool(self.api_secret_ciphertext)

    def reveal_api_secret(self) -> str:
        """The plaintext secret, for signing upstream requests only. Never render, log or return it."""
        return secret_decrypt(self.api_secret_ciphertext) if self.api_secret_ciphertext else ""
