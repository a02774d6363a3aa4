"""Reads of collections: the steps taken, for the staff console and the customer's pages."""

from __future__ import annotations

from billing.models.collections import CollectionStep
from tenants.access import Scope, scoped


def collection_steps_recent(*, scope: Scope, limit: int = 100) -> list[CollectionStep]:
    """The provider's latest steps, newest first (the Collections page)."""
    steps = scoped(CollectionStep, scope).select_related("invoice", "customer").order_by("-taken_at", "-id")
    return list(steps[:limit])


def collection_steps_for_customer(*, scope: Scope, customer_id: int) -> list[CollectionStep]:
    """Every step taken for a customer's invoices, newest first (shown with its invoices)."""
    return list(scoped(CollectionStep, scope).filter(customer_id=customer_id).select_related("invoice")
                .order_by("-taken_at", "-id"))
