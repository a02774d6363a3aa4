"""Hashrate series copied from the pool (5 min, 1 h, 24 h), per account and per worker.
"""

from __future__ import annotations

from django.db import models

from mining.models.accounts import MiningAccount
from mining.models.base import HASHRATE, CustomerOwned
from mining.models.workers import Worker


class Interval(models.TextChoices):
    M5 = "5m", "5 minutes"
    H1 = "1h", "1 hour"
    D1 = "24h", "24 hours"


class AccountHashrateSample(CustomerOwned):
    """One point of an account's hashrate series. Natural key: (account, interval, at).

    The unique index (account, interval, at) is also what makes a 24-hour read an index range scan; retention
    (see docs/SYNC.md) keeps 5-minute points for 35 days, hourly for 400, daily for ever.
    """

    account = models.ForeignKey(MiningAccount, on_delete=models.CASCADE, related_name="hashrate_samples")
    interval = models.CharField(max_length=4, choices=Interval.choices)
    at = models.DateTimeField()
    hashrate_hs = models.DecimalField(**HASHRATE)
    reject_rate = models.DecimalField(max_digits=9, decimal_places=8, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "interval", "at"], name="account_sample_natural_key")
        ]
        indexes = [models.Index(fields=["provider", "interval", "at"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.interval} {self.at:%Y-%m-%d %H:%M} {self.hashrate_hs} H/s"


class WorkerHashrateSample(CustomerOwned):
    """One point of a worker's hashrate series. Natural key: (worker, interval, at)."""

    account = models.ForeignKey(MiningAccount, on_delete=models.CASCADE, related_name="+")
    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="hashrate_samples")
    interval = models.CharField(max_length=4, choices=Interval.choices)
    at = models.DateTimeField()
    hashrate_hs = models.DecimalField(**HASHRATE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["worker", "interval", "at"], name="worker_sample_natural_key")
        ]
        indexes = [models.Index(fields=["provider", "account", "interval", "at"])]

    def __str__(self) -> str:
        return f"{self.worker_id} {self.interval} {self.at:%Y-%m-%d %H:%M} {self.hashrate_hs} H/s"
