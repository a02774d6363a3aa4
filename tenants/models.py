"""The tenant tree: Provider (the tenant root) → Customer, and who may act in each.

Every tenant-owned model elsewhere carries `provider` (and `customer` where it belongs to one) and declares
`TENANT_CUSTOMER_FIELD` so that `tenants.access.scoped()` can filter it; see that module.
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower

from tenants.crypto import secret_decrypt, secret_encrypt

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
        from tenants.validators import validate_upstream_url

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


class Customer(models.Model):
    """A provider's customer: owns mining accounts and sees only its own data."""

    TENANT_CUSTOMER_FIELD = "id"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="customers")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=50, validators=[slug_validator])
    contact_emails = models.JSONField(default=list, blank=True, help_text="Addresses that receive alerts and bills.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["provider_id", "name"]
        constraints = [models.UniqueConstraint(fields=["provider", "slug"], name="customer_unique_slug_per_provider")]
        indexes = [models.Index(fields=["provider", "status"])]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.validators import validate_email

        if not isinstance(self.contact_emails, list):
            raise ValidationError({"contact_emails": "Give a list of e-mail addresses."})
        for address in self.contact_emails:
            try:
                validate_email(address)
            except ValidationError as exc:
                raise ValidationError({"contact_emails": f"“{address}” is not a valid e-mail address."}) from exc


class StaffRole(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    OPERATOR = "operator", "Operator"
    READ_ONLY = "read_only", "Read-only"


class CustomerRole(models.TextChoices):
    ADMIN = "admin", "Admin"
    VIEWER = "viewer", "Viewer"


class ProviderMembership(models.Model):
    """A user's staff role at one provider. A user may be staff at several providers."""

    TENANT_CUSTOMER_FIELD = None

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="staff_memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="provider_memberships")
    role = models.CharField(max_length=16, choices=StaffRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "user"], name="provider_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} at {self.provider}"


class CustomerMembership(models.Model):
    """A user's role at one customer. `provider` is denormalised so the row leads with its tenant."""

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="customer_memberships")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer_memberships")
    role = models.CharField(max_length=16, choices=CustomerRole.choices)
    receives_alert_emails = models.BooleanField(
        default=True, help_text="Alert e-mails go to this user (the customer's admin may turn them off)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "user"], name="customer_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} at {self.customer}"

    def clean(self) -> None:
        if self.customer_id and self.provider_id and self.customer.provider_id != self.provider_id:
            raise ValidationError({"customer": "The customer belongs to another provider."})


class AuditEntry(models.Model):
    """One write in the product: who, which tenant, what object, what changed. Append-only.

    Written only by `tenants.audit.audit_record`, inside the transaction of the write it describes, so a rolled
    back write leaves no entry and a committed one always has its entry. Secrets are never stored (see there).
    """

    TENANT_CUSTOMER_FIELD = "customer"

    class ActorKind(models.TextChoices):
        USER = "user", "User"
        TOKEN = "token", "API token"
        SYSTEM = "system", "System"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor_kind = models.CharField(max_length=8, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_token_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=200, help_text="The actor as shown (e-mail, token name, task).")
    action = models.CharField(max_length=80, help_text="<entity>.<verb>, e.g. contract.create")
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True, help_text='{"field": [before, after]}')
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["provider", "-created_at"]),
            models.Index(fields=["provider", "customer", "-created_at"]),
            models.Index(fields=["provider", "object_type", "object_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"


class OutboundEmail(models.Model):
    """One e-mail to one recipient, written in the same transaction as the event it tells about.

    The outbox is what makes a notice durable: the row commits with the alert (or invitation, or statement) or not
    at all, a task sends it after commit, and a beat sweep re-sends whatever a lost broker queue or a killed
    worker left behind. One row per recipient, so nobody sees anyone else's address and a refusing mailbox fails
    only its own message. See tenants/email.py and docs/EMAIL.md.
    """

    TENANT_CUSTOMER_FIELD = "customer"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    recipient = models.EmailField(max_length=254)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    dedupe_key = models.CharField(
        max_length=200, help_text="What the message is about, e.g. alert:42:open; queuing it again is a no-op."
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, help_text="Why the last attempt failed, in words.")
    next_attempt_at = models.DateTimeField(help_text="When a queued message is due (later after a failed attempt).")
    claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="A sender's lease; once past, another worker may pick the message up."
    )
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    give_up_at = models.DateTimeField(
        null=True, blank=True,
        help_text="After this a failed attempt is the last: the message is failed and the provider is told "
        "(empty on rows from before it existed: created + EMAIL_OUTBOX_GIVE_UP_AFTER_S).",
    )
    failed_at = models.DateTimeField(null=True, blank=True, help_text="When the message was given up.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                "provider", "dedupe_key", Lower("recipient"), name="outbound_email_once_per_recipient"
            ),
        ]
        indexes = [
            models.Index(fields=["provider", "status", "-created_at"]),
            # The sweep's work list: only unfinished rows, so it stays small however much mail was sent.
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(status__in=["queued", "sending"]),
                name="outbound_email_unfinished",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.recipient} ({self.status})"


# Accounts and access (invitations, session generation, hashed recovery codes) live in their own module.
from tenants.access_models import (  # noqa: E402, F401
    AccountSecurity,
    Invitation,
    RecoveryCode,
    RecoveryCodeDevice,
    SecurityEvent,
)

# REST API tokens and idempotency records live in their own module.
from tenants.api_models import ApiToken, ApiTokenScope, IdempotencyRecord  # noqa: E402, F401

# A provider's white label (name, logo, colours, sender, own domain) lives in its own module.
from tenants.brand_models import ProviderBrand  # noqa: E402, F401

# A user's own display settings (time zone) live in their own module.
from tenants.preference_models import UserPreference  # noqa: E402, F401
