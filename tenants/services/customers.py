"""Customers from the staff console: create (with field errors, nothing half-written) and suspend / reactivate."""

from __future__ import annotations

from django.db import transaction

from tenants.access import Capability, Scope, get_in_scope
from tenants.audit import audit_record
from tenants.models import Customer, Provider
from tenants.services.core import customer_create


def customer_create_in_scope(*, scope: Scope, name: str, slug: str, contact_emails: list[str]) -> Customer:
    """The console's create: one transaction, so a refused slug leaves neither a row nor an audit entry."""
    scope.require(Capability.MANAGE_CUSTOMERS)
    with transaction.atomic():
        provider = get_in_scope(Provider, scope, pk=scope.provider_id)
        return customer_create(provider=provider, name=name.strip(), slug=slug.strip().lower(),
                               contact_emails=contact_emails, scope=scope)


def customer_status_set(*, scope: Scope, customer_id: int, status: Customer.Status | str) -> Customer:
    """Suspend or reactivate. A suspended customer's users are turned away from the self-service pages with a
    plain notice; the sync and the data go on, so reactivating shows everything up to date."""
    scope.require(Capability.MANAGE_CUSTOMERS)
    status = Customer.Status(status)
    with transaction.atomic():
        customer = get_in_scope(Customer.objects.select_for_update(), scope, pk=customer_id)
        if customer.status == status:
            return customer
        before = customer.status
        customer.status = status
        customer.save(update_fields=["status"])
        action = "customer.suspend" if status == Customer.Status.SUSPENDED else "customer.reactivate"
        audit_record(scope=scope, action=action, target=customer, before={"status": before},
                     after={"status": status})
    return customer


def customer_contacts_set(*, scope: Scope, customer_id: int, contact_emails: list[str]) -> Customer:
    """The addresses that receive the customer's alerts and bills, set by the customer's admin or by staff."""
    scope.require(Capability.MANAGE_CUSTOMER_USERS)
    cleaned = list(dict.fromkeys(e.strip().lower() for e in contact_emails if e.strip()))
    with transaction.atomic():
        customer = get_in_scope(Customer.objects.select_for_update(), scope, pk=customer_id)
        if customer.contact_emails == cleaned:
            return customer
        before = customer.contact_emails
        customer.contact_emails = cleaned
        customer.save(update_fields=["contact_emails"])
        audit_record(scope=scope, action="customer.contacts_set", target=customer,
                     before={"contact_emails": before}, after={"contact_emails": cleaned})
    return customer
