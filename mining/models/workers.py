"""Workers (machines) of an account as the pool lists them, with the state the sync derives.
"""

from __future__ import annotations

from django.db import models

from mining.models.accounts import MiningAccount
from mining.models.base import HASHRATE, CustomerOwned


class Worker(CustomerOwned):
    class Status(models.TextChoices):
        ONLINE = "online", "Online"
        LOW = "low", "Low hashrate"
        ZERO = "zero", "Listed, 0 H/s"
        OFFLINE = "offline", "Offline"

    account = models.ForeignKey(MiningAccount, on_delete=models.CASCADE, related_name="workers")
    name = models.CharField(max_length=255)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ONLINE)
    first_seen_at = models.DateTimeField()
    last_seen_online_at = models.DateTimeField(null=True, blank=True)
    offline_since_at = models.DateTimeField(null=True, blank=True)
    current_hashrate_hs = models.DecimalField(**HASHRATE, null=True, blank=True)
    # Rollup written by the worker-hashrate sync: the mean of the worker's hourly points over the 24 hours up to
    # the account's newest point, so the workers table sorts by it without averaging 500 series per request.
    hashrate_24h_hs = models.DecimalField(**HASHRATE, null=True, blank=True)
    hashrate_24h_until_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="worker_unique_name")]
        indexes = [models.Index(fields=["provider", "account", "status"])]

    def __str__(self) -> str:
        return f"{self.account.name}.{self.name}"
