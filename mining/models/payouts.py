"""Held payout changes: a request to pay a mining account elsewhere, confirmed by a second factor (or an e-mailed
link), held for the provider's hold time, then sent to the pool by a task (mining/services/payouts.py says why).

A change is never edited in place: a newer request supersedes (cancels) an older pending one, and the row keeps
who asked, when it is due and how it ended. Tokens (the confirmation link, one cancel link per recipient) are
stored only as SHA-256 hashes; the link itself lives only in the e-mail's body.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q

from tenants.models import Customer, Provider


class PayoutChangeStatus(models.TextChoices):
    REQUESTED = "requested", "Waiting for the e-mailed confirmation"
    HELD = "held", "Held"
    APPLYING = "applying", "Being sent to the pool"
    APPLIED = "applied", "Applied"
    CANCELED = "canceled", "Canceled"
    FAILED = "failed", "Failed"


PENDING_STATUSES = (PayoutChangeStatus.REQUESTED, PayoutChangeStatus.HELD, PayoutChangeStatus.APPLYING)


CANCELABLE_STATUSES = (PayoutChangeStatus.REQUESTED, PayoutChangeStatus.HELD)


class PayoutChange(models.Model):
    """One requested change of an account's payout destination, from request to outcome."""

    TENANT_CUSTOMER_FIELD = "customer"

    class ConfirmedBy(models.TextChoices):
        CODE = "code", "Second-factor code"
        EMAIL = "email", "E-mailed link"
        TOKEN = "token", "API token"
        POLICY = "policy", "The provider's collection policy (an overdue invoice)"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    account = models.ForeignKey("mining.MiningAccount", on_delete=models.PROTECT, related_name="payout_changes")
    destination = models.CharField(max_length=32, choices=[("main_balance", "WhiteBIT main balance"),
                                                           ("external_address", "External BTC address")])
    address = models.CharField(max_length=100, blank=True)
    customer_owns_address = models.BooleanField(
        default=True, help_text="An external address that is the customer's own: statements count its rewards as "
                                "held by the customer from the day it is applied.")
    before_destination = models.CharField(max_length=32, blank=True)
    before_address = models.CharField(max_length=100, blank=True)

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    requested_by_label = models.CharField(max_length=254, help_text="Who asked (e-mail or API token), for people.")
    requested_at = models.DateTimeField()
    confirmed_by = models.CharField(max_length=8, choices=ConfirmedBy.choices, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True, help_text="When the hold ends; set once confirmed.")
    status = models.CharField(max_length=12, choices=PayoutChangeStatus.choices, default=PayoutChangeStatus.REQUESTED)

    lease_token = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    finished_at = models.DateTimeField(null=True, blank=True)
    finished_by_label = models.CharField(max_length=254, blank=True, help_text="Who canceled it, or the task.")
    outcome = models.TextField(blank=True, help_text="How it ended, in words (the pool's reason when it failed).")

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["provider", "account", "status"]),
            models.Index(fields=["status", "due_at"], name="mining_payout_change_due"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(destination="external_address") | ~Q(address=""),
                                   name="mining_payout_change_address_for_external"),
        ]

    def __str__(self) -> str:
        return f"Payout change #{self.pk} of account #{self.account_id} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING_STATUSES

    @property
    def is_cancelable(self) -> bool:
        return self.status in CANCELABLE_STATUSES

    @property
    def where(self) -> str:
        """The new destination in words."""
        if self.destination == "external_address":
            return f"the Bitcoin address {self.address}"
        return "the WhiteBIT main balance"


class PayoutChangeToken(models.Model):
    """A single-use link's token, as a hash: the requester's confirmation, or one recipient's cancel link."""

    TENANT_CUSTOMER_FIELD = "customer"

    class Purpose(models.TextChoices):
        CONFIRM = "confirm", "Confirm"
        CANCEL = "cancel", "Cancel"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    change = models.ForeignKey(PayoutChange, on_delete=models.CASCADE, related_name="tokens")
    purpose = models.CharField(max_length=8, choices=Purpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    recipient = models.EmailField(max_length=254)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: valid while the change is pending.")
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["provider", "change"])]

    def __str__(self) -> str:
        return f"{self.purpose} link of payout change #{self.change_id} for {self.recipient}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()
