"""The audit log: one row per write a service made, who did it, in which tenant, before and after.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenants.models.customers import Customer
from tenants.models.providers import Provider


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
