"""Reads of alerts and alert rules, always through tenants.access: the pages' lists and the API's list.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from mining.models import Alert, AlertRule
from mining.selectors.labels import alerts_with_label
from tenants.access import Scope, scoped


def alert_list_api(*, scope: Scope) -> QuerySet[Alert]:
    return scoped(Alert, scope)


def alert_list(*, scope: Scope, state: str = "open", label_id: int | None = None) -> QuerySet[Alert]:
    """Alerts for the alerts page: `open` (unresolved), `unacknowledged` (open and nobody has taken it), `all`;
    with `label_id`, only those about an account or worker carrying that label."""
    qs = scoped(Alert, scope).select_related("account", "customer", "worker", "acknowledged_by")
    qs = alerts_with_label(qs, label_id)
    if state in ("open", "unacknowledged"):
        qs = qs.filter(resolved_at__isnull=True)
    if state == "unacknowledged":
        qs = qs.filter(acknowledged_at__isnull=True)
    return qs.order_by("-opened_at", "-pk")


def open_alert_count(*, scope: Scope) -> int:
    return scoped(Alert, scope).filter(resolved_at__isnull=True).count()


def alert_rules_for_customer(*, scope: Scope) -> QuerySet[AlertRule]:
    """The enabled rules watching the scope customer's accounts: rules on an account it holds now, rules for the
    customer, and the provider's rules for everyone. Provider-wide rules are outside a customer's scope, so the read
    widens to the provider (`Scope.provider_wide_reads`, VIEW only) and filters back to what concerns this
    customer."""

    cid = scope.customer_id
    return (scoped(AlertRule, scope.provider_wide_reads()).filter(is_enabled=True)
            .filter(Q(account__customer_id=cid) | Q(account__isnull=True, customer_id=cid)
                    | Q(account__isnull=True, customer__isnull=True))
            .select_related("account").order_by("kind", "pk"))
