"""Customer writes that take a scope (the API's, later the staff console's): checked, validated, audited."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tenants.access import Capability, Scope, scoped
from tenants.audit import audit_record, audit_snapshot
from tenants.models import Customer


def customer_create_in_scope(
    *, scope: Scope, name: str, slug: str, contact_emails: list[str] | None = None
) -> Customer:
    """A new customer of the scope's provider; the slug must be free at that provider (field error if not)."""
    scope.require(Capability.MANAGE_CUSTOMERS)
    customer = Customer(provider_id=scope.provider_id, name=(name or "").strip(), slug=slug or "",
                        contact_emails=contact_emails or [])
    customer.full_clean(validate_constraints=False)
    if scoped(Customer, scope).filter(slug=customer.slug).exists():
        raise ValidationError({"slug": "This provider already has a customer with that slug."})
    try:
        with transaction.atomic():
            customer.save()
            audit_record(scope=scope, action="customer.create", target=customer,
                         after=audit_snapshot(customer, ["name", "slug", "contact_emails", "status"]))
    except IntegrityError as exc:  # a concurrent create took the slug between the check and the insert
        raise ValidationError({"slug": "This provider already has a customer with that slug."}) from exc
    return customer
