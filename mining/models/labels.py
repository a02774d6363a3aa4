"""Labels: staff tag mining accounts and workers by site, rack or hardware batch, and filter every list by them.

A label belongs to its provider (unique by kind and name there). The links to accounts and workers are their
own tables, each carrying `provider` first (every index leads with the tenant, see DESIGN). The sync never
touches these tables and never deletes a worker (it upserts on (account, name)), so a re-sync keeps every label.
The old free-text `MiningAccount.label` stays a note for people; docs/LABELS.md says why.
"""

from __future__ import annotations

from django.db import models

from tenants.models import Provider

LABEL_NAME_MAX = 64


class LabelKind(models.TextChoices):
    SITE = "site", "Site"
    RACK = "rack", "Rack"
    BATCH = "batch", "Hardware batch"
    OTHER = "other", "Other"


class Label(models.Model):
    """A provider's tag. Customers see the labels on their own workers (read-only), never the list itself."""

    TENANT_CUSTOMER_FIELD = None

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="labels")
    kind = models.CharField(max_length=8, choices=LabelKind.choices, default=LabelKind.OTHER)
    name = models.CharField(max_length=LABEL_NAME_MAX)
    accounts = models.ManyToManyField("mining.MiningAccount", through="AccountLabel", related_name="labels")
    workers = models.ManyToManyField("mining.Worker", through="WorkerLabel", related_name="labels")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["provider", "kind", "name"], name="label_unique_name")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"


class AccountLabel(models.Model):
    """One account carries one label. Customer-visible through the account's customer."""

    TENANT_CUSTOMER_FIELD = "account__customer"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey("mining.MiningAccount", on_delete=models.CASCADE, related_name="label_links")
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="account_links")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "account", "label"], name="account_label_unique")]
        indexes = [models.Index(fields=["provider", "label", "account"])]

    def __str__(self) -> str:
        return f"{self.account_id} ← {self.label_id}"


class WorkerLabel(models.Model):
    """One worker carries one label. Keyed by the worker's row, which the sync keeps (upsert, never delete)."""

    TENANT_CUSTOMER_FIELD = "worker__customer"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="+")
    worker = models.ForeignKey("mining.Worker", on_delete=models.CASCADE, related_name="label_links")
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="worker_links")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "worker", "label"], name="worker_label_unique")]
        indexes = [models.Index(fields=["provider", "label", "worker"])]

    def __str__(self) -> str:
        return f"{self.worker_id} ← {self.label_id}"
