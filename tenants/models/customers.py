"""A provider's customer: the second level of the tenant tree (Provider -> Customer).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from tenants.models.providers import Provider, slug_validator


class Customer(models.Model):
    """A provider's customer: owns mining accounts and sees only its own data."""

    TENANT_CUSTOMER_FIELD = "id"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="customers")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=50, validators=[slug_validator])
    contact_emails = models.JSONField(default=list, blank=True, help_text="Addresses that receive alerts and bills.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["provider_id", "name"]
        constraints = [models.UniqueConstraint(fields=["provider", "slug"], name="customer_unique_slug_per_provider")]
        indexes = [models.Index(fields=["provider", "status"])]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.validators import validate_email

        if not isinstance(self.contact_emails, list):
            raise ValidationError({"contact_emails": "Give a list of e-mail addresses."})
        for address in self.contact_emails:
            try:
                validate_email(address)
            except ValidationError as exc:
                raise ValidationError({"contact_emails": f"“{address}” is not a valid e-mail address."}) from exc
