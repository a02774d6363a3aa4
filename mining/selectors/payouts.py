"""Reads of held payout changes for the payout pages and the API: what is pending, and how the last ones ended.
"""

from __future__ import annotations

from collections.abc import Iterable

from mining.models.payouts import PENDING_STATUSES, PayoutChange
from tenants.access import Scope, scoped


def payout_changes_pending(*, scope: Scope, account_ids: Iterable[int] | None = None) -> list[PayoutChange]:
    """Pending changes (waiting for confirmation, held, being sent), newest first, with their accounts."""
    qs = scoped(PayoutChange, scope).filter(status__in=PENDING_STATUSES).select_related("account")
    if account_ids is not None:
        qs = qs.filter(account_id__in=list(account_ids))
    return list(qs.order_by("-requested_at", "-pk"))


def payout_changes_recent(*, scope: Scope, account_ids: Iterable[int] | None = None,
                          limit: int = 5) -> list[PayoutChange]:
    """The last few finished changes (applied, failed, canceled) with their outcome in words."""
    qs = scoped(PayoutChange, scope).exclude(status__in=PENDING_STATUSES).select_related("account")
    if account_ids is not None:
        qs = qs.filter(account_id__in=list(account_ids))
    return list(qs.order_by("-finished_at", "-pk")[:limit])


def payout_change_pending_for_account(*, scope: Scope, account_id: int) -> PayoutChange | None:
    """The account's newest pending change, for the API's `pending_change` (at most one is held at a time)."""
    return (scoped(PayoutChange, scope).filter(account_id=account_id, status__in=PENDING_STATUSES)
            .order_by("-requested_at", "-pk").first())
