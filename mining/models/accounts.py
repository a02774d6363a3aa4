"""Mining accounts on the pool and who holds each one when (dated assignments to customers).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from tenants.models import Customer, Provider


class PayoutDestination(models.TextChoices):
    MAIN_BALANCE = "main_balance", "WhiteBIT main balance"
    EXTERNAL_ADDRESS = "external_address", "External BTC address"


class MiningAccount(models.Model):
    """One account on the pool. `customer` is null while an upstream account is not yet assigned."""

    TENANT_CUSTOMER_FIELD = "customer"

    class SyncStatus(models.TextChoices):
        NEVER = "never", "Not synced yet"
        OK = "ok", "In step"
        RETRYING = "retrying", "Retrying (temporary upstream problem)"
        FAILED = "failed", "Needs attention"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="mining_accounts")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="mining_accounts"
    )
    name = models.CharField(max_length=255, help_text="The account's name on the pool; miners use it as user.")
    label = models.CharField(max_length=200, blank=True, help_text="Site or hardware batch, for people.")
    upstream_created_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True, help_text="Paused accounts are not synced.")

    # From miners/info.
    stratum_urls = models.JSONField(default=list, blank=True)
    pool_fee_percent = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    workers_online = models.PositiveIntegerField(default=0)
    workers_offline = models.PositiveIntegerField(default=0)
    workers_low = models.PositiveIntegerField(default=0)

    # The portal's record of the payout destination, and what the pool said at the last sync.
    payout_destination = models.CharField(max_length=32, choices=PayoutDestination.choices, blank=True)
    payout_address = models.CharField(max_length=100, blank=True)
    upstream_payout_destination = models.CharField(max_length=32, choices=PayoutDestination.choices, blank=True)
    upstream_payout_address = models.CharField(max_length=100, blank=True)
    payout_drift_detected_at = models.DateTimeField(null=True, blank=True)

    # Sync bookkeeping. The lease makes "one sync per account at a time" hold across workers and machines,
    # and frees itself when a worker dies (it is short and renewed per dataset, so it simply expires). The
    # status is the last recorded outcome; pages show `mining.selectors.sync.sync_health`, derived when read.
    sync_status = models.CharField(max_length=16, choices=SyncStatus.choices, default=SyncStatus.NEVER)
    sync_error = models.TextField(blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    sync_lease_token = models.CharField(max_length=64, blank=True)
    sync_lease_until = models.DateTimeField(null=True, blank=True)
    # The dataset a live sync is on (renewed with the lease): "Syncing: rewards", or where a dead one stopped.
    sync_step = models.CharField(max_length=32, blank=True)
    worker_hashrate_synced_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["provider", "name"], name="mining_account_unique_name")]
        indexes = [
            models.Index(fields=["provider", "customer"]),
            models.Index(fields=["provider", "is_active", "sync_status"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def payout_drift(self) -> bool:
        """The pool's payout destination differs from the portal's record (someone changed it elsewhere)."""
        if not self.payout_destination or not self.upstream_payout_destination:
            return False
        return (self.payout_destination, self.payout_address) != (
            self.upstream_payout_destination,
            self.upstream_payout_address,
        )


class AccountAssignment(models.Model):
    """Which customer held a mining account, from which UTC day. History is dated, never rewritten.

    Every synced row dated on a day belongs to the customer who held the account that day (the sync resolves it
    from these rows under the account's row lock), so moving an account leaves its past with the old customer
    and a statement can bill each day to its holder. `customer` empty is a period where nobody held it.
    """

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("MiningAccount", on_delete=models.CASCADE, related_name="assignments")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    valid_from = models.DateField(null=True, blank=True, help_text="First UTC day held; empty: since the start.")
    valid_to = models.DateField(null=True, blank=True, help_text="First UTC day no longer held; empty: current.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["account_id", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["account"], condition=Q(valid_to__isnull=True),
                                    name="account_assignment_one_current"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_to__isnull=True)
                | Q(valid_to__gt=models.F("valid_from")),
                name="account_assignment_positive_period",
            ),
        ]
        indexes = [models.Index(fields=["provider", "account", "valid_from"])]

    def __str__(self) -> str:
        holder = self.customer_id or "unassigned"
        return f"{self.account_id} → {holder} [{self.valid_from or '…'}, {self.valid_to or '…'})"

    def covers(self, day) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day < self.valid_to)
