"""Customers from the staff console: create (with field errors, nothing half-written) and suspend / reactivate;
the customer's own alert e-mail settings (contacts, which users get them)."""

from __future__ import annotations

from django.db import transaction

from tenants.access import Capability, Scope, get_in_scope, scoped
from tenants.audit import audit_record
from tenants.models import Customer, CustomerMembership, Provider
from tenants.services.core import customer_create


def customer_create_in_scope(*, scope: Scope, name: str, slug: str,
                             contact_emails: list[str] | None = None) -> Customer:
    """The scope's provider's new customer (console, onboarding, API): `customer_create`'s one set of rules."""
    scope.require(Capability.MANAGE_CUSTOMERS)
    provider = get_in_scope(Provider, scope, pk=scope.provider_id)
    return customer_create(provider=provider, name=name, slug=slug, contact_emails=contact_emails, scope=scope)


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


def customer_alert_recipients_set(*, scope: Scope, customer_id: int, receiving_membership_ids: list[int]) -> int:
    """Which of the customer's own portal users get alert e-mails (the rest are opted out); returns how many
    memberships changed. Ids of other customers' memberships are ignored: only this customer's rows are read."""
    scope.require(Capability.MANAGE_CUSTOMER_USERS)
    wanted = {int(i) for i in receiving_membership_ids}
    with transaction.atomic():
        customer = get_in_scope(Customer.objects.select_for_update(), scope, pk=customer_id)
        members = list(scoped(CustomerMembership, scope).filter(customer_id=customer.pk).select_related("user")
                       .order_by("pk"))
        changed = [m for m in members if m.receives_alert_emails != (m.pk in wanted)]
        if not changed:
            return 0
        before = {m.user.email: m.receives_alert_emails for m in changed}
        for m in changed:
            m.receives_alert_emails = m.pk in wanted
        CustomerMembership.objects.bulk_update(changed, ["receives_alert_emails"])
        audit_record(scope=scope, action="customer.alert_recipients_set", target=customer,
                     before={"receives_alert_emails": before},
                     after={"receives_alert_emails": {m.user.email: m.receives_alert_emails for m in changed}})
    return len(changed)
