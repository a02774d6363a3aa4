"""Rewards the pool credited to an account per day, in sats, and the history of their status.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from mining.models.accounts import MiningAccount, PayoutDestination
from mining.models.base import HASHRATE, CustomerOwned


class RewardStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCESSFUL = "successful", "Paid"
    CANCELED = "canceled", "Canceled"


class Reward(CustomerOwned):
    """A day's FPPS reward of one account. Natural key: (account, date). Amounts in satoshis, exactly."""

    account = models.ForeignKey(MiningAccount, on_delete=models.PROTECT, related_name="rewards")
    date = models.DateField(help_text="The reward's day (UTC), from the pool's `date`.")
    reward_at = models.DateTimeField(help_text="The pool's `date` timestamp, as given.")
    currency = models.CharField(max_length=10, default="BTC")
    total_reward_sats = models.BigIntegerField()
    reward_sats = models.BigIntegerField(help_text="Net of the pool fee.")
    fee_sats = models.BigIntegerField()
    fpps_rate = models.DecimalField(max_digits=40, decimal_places=24)
    hashrate_hs = models.DecimalField(**HASHRATE)
    status = models.CharField(max_length=12, choices=RewardStatus.choices)
    payout_destination = models.CharField(max_length=32, choices=PayoutDestination.choices, blank=True)
    payout_address = models.CharField(max_length=100, blank=True)
    payout_tx_hash = models.CharField(max_length=128, blank=True)
    payout_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["account", "date"], name="reward_natural_key"),
            models.CheckConstraint(
                condition=Q(total_reward_sats=models.F("reward_sats") + models.F("fee_sats")),
                name="reward_total_is_reward_plus_fee",
            ),
        ]
        indexes = [
            models.Index(fields=["provider", "customer", "date"]),
            models.Index(fields=["provider", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.date} {self.total_reward_sats} sats ({self.status})"


class RewardStatusChange(CustomerOwned):
    """The record of a reward's status moves (pending → successful, pending → canceled, refused regressions)."""

    reward = models.ForeignKey(Reward, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=12, choices=RewardStatus.choices)
    to_status = models.CharField(max_length=12, choices=RewardStatus.choices)
    applied = models.BooleanField(default=True, help_text="False when the pool reported a regression we refused.")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.reward_id}: {self.from_status} → {self.to_status}"
