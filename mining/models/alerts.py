"""Alerts (one open row per condition) and the rules that raise them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from mining.models.accounts import MiningAccount
from mining.models.base import HASHRATE
from mining.models.workers import Worker
from tenants.models import Customer, Provider


class AlertKind(models.TextChoices):
    HASHRATE_FLOOR = "hashrate_floor", "Hashrate under a floor"
    HASHRATE_DROP = "hashrate_drop", "Hashrate under its 24-hour mean"
    WORKER_OFFLINE = "worker_offline", "Worker offline"
    SYNC_STALE = "sync_stale", "Sync out of date"
    EMAIL_UNDELIVERED = "email_undelivered", "E-mail not delivered"  # always watched, not a rule (issue 17)


class AlertRule(models.Model):
    """What to watch, for one account, one customer's accounts, or (neither set) all of a provider's."""

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="alert_rules")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    account = models.ForeignKey(MiningAccount, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=24, choices=AlertKind.choices)
    floor_hs = models.DecimalField(**HASHRATE, null=True, blank=True, help_text="For hashrate_floor.")
    drop_bps = models.PositiveIntegerField(
        null=True, blank=True, help_text="For hashrate_drop: alert under this share of the 24 h mean (bps)."
    )
    duration_minutes = models.PositiveIntegerField(default=15)
    notify_customer = models.BooleanField(default=True)
    is_enabled = models.BooleanField(default=True)

    class Meta:
        indexes = [models.Index(fields=["provider", "kind", "is_enabled"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.pk})"


class Alert(models.Model):
    """One occurrence of a watched condition. At most one open alert per condition (`condition_key`)."""

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="alerts")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    account = models.ForeignKey(MiningAccount, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    rule = models.ForeignKey(AlertRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts")
    kind = models.CharField(max_length=24, choices=AlertKind.choices)
    condition_key = models.CharField(max_length=200)
    message = models.TextField()
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    notified_open_at = models.DateTimeField(null=True, blank=True)
    notified_resolve_at = models.DateTimeField(null=True, blank=True)
    # Staff take an open alert ("someone is on it"); it stays open until the condition clears.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "condition_key"],
                condition=Q(resolved_at__isnull=True),
                name="alert_one_open_per_condition",
            )
        ]
        indexes = [models.Index(fields=["provider", "resolved_at"])]

    def __str__(self) -> str:
        return self.message
