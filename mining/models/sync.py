"""The sync's own state per account and dataset: watermarks, outcome, the lease.
"""

from __future__ import annotations

from django.db import models

from mining.models.accounts import MiningAccount
from mining.models.base import CustomerOwned


class SyncDataset(models.TextChoices):
    MINER_INFO = "miner_info", "Miner info"
    WORKERS = "workers", "Workers"
    HASHRATE_5M = "hashrate_5m", "Account hashrate (5 min)"
    HASHRATE_1H = "hashrate_1h", "Account hashrate (1 h)"
    HASHRATE_24H = "hashrate_24h", "Account hashrate (24 h)"
    WORKER_HASHRATE = "worker_hashrate", "Worker hashrate"
    REWARDS = "rewards", "Rewards"
    PAYOUT = "payout", "Payout destination"
    WATCHER_LINKS = "watcher_links", "Watcher links"


class SyncState(CustomerOwned):
    """Per account and dataset: how far we have read (watermark), and how the last attempt went.

    The watermark advances in the same transaction as the rows it covers, so a crash leaves it pointing at
    data we really have; each sync re-reads an overlap window before it, which makes a lost write harmless.
    """

    account = models.ForeignKey(MiningAccount, on_delete=models.CASCADE, related_name="sync_states")
    dataset = models.CharField(max_length=24, choices=SyncDataset.choices)
    watermark_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "dataset"], name="sync_state_natural_key")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.dataset}"
