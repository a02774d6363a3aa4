"""REST API models (issue 11): API tokens and idempotency records.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenants.models.customers import Customer
from tenants.models.providers import Provider


class ApiTokenScope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"
    BILLING = "billing", "Billing"


class ApiToken(models.Model):
    """A machine's credential for the REST API: a provider's (whole tenant) or one customer's own integrations.

    Only a SHA-256 of the token is stored (the token is 256 random bits, so a slow hash buys nothing); the
    `prefix` is the public part that finds the row and lets people tell their tokens apart. See tenants/tokens.py.
    """

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="api_tokens")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list, help_text="Any of read, write, billing.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["provider", "customer", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class IdempotencyRecord(models.Model):
    """One `Idempotency-Key` of one caller: the request it was first used with and the answer it got.

    Unique per tenant and caller, so two tokens may use the same key independently. `state` says whether
    the first request finished (`done`: replay the stored answer), is running (`running`: refuse a
    concurrent retry), or ended without knowing whether the pool applied the write (`unknown`: a retry must
    look upstream before writing again).
    """

    TENANT_CUSTOMER_FIELD = "customer"

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        UNKNOWN = "unknown", "Outcome unknown (upstream did not answer)"
        DONE = "done", "Done"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    caller = models.CharField(max_length=40, help_text="token:<id> or user:<id>")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and canonical body.")
    state = models.CharField(max_length=8, choices=State.choices, default=State.RUNNING)
    attempts = models.PositiveIntegerField(default=1)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    recovery = models.JSONField(default=dict, blank=True,
                                help_text="What a write noted before calling the pool, to find its effect on a retry.")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "caller", "key"], name="idempotency_key_unique_per_caller")
        ]
        indexes = [models.Index(fields=["provider", "created_at"])]

    def __str__(self) -> str:
        return f"{self.caller} {self.key} ({self.state})"
