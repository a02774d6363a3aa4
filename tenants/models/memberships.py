"""Who may act where: staff roles in a provider, customer roles in a customer, and the memberships that grant them.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from tenants.models.customers import Customer
from tenants.models.providers import Provider


class StaffRole(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    OPERATOR = "operator", "Operator"
    READ_ONLY = "read_only", "Read-only"


class CustomerRole(models.TextChoices):
    ADMIN = "admin", "Admin"
    VIEWER = "viewer", "Viewer"


class ProviderMembership(models.Model):
    """A user's staff role at one provider. A user may be staff at several providers."""

    TENANT_CUSTOMER_FIELD = None

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="staff_memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="provider_memberships")
    role = models.CharField(max_length=16, choices=StaffRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "user"], name="provider_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} at {self.provider}"


class CustomerMembership(models.Model):
    """A user's role at one customer. `provider` is denormalised so the row leads with its tenant."""

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="customer_memberships")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer_memberships")
    role = models.CharField(max_length=16, choices=CustomerRole.choices)
    receives_alert_emails = models.BooleanField(
        default=True, help_text="Alert e-mails go to this user (the customer's admin may turn them off)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "user"], name="customer_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} at {self.customer}"

    def clean(self) -> None:
        if self.customer_id and self.provider_id and self.customer.provider_id != self.provider_id:
            raise ValidationError({"customer": "The customer belongs to another provider."})
