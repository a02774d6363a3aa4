"""Reads for share links (issue 21): a customer's links for its page, and what one link's visitor may see.

Every read of a visit goes through the link's reader scope (its customer, VIEW only) and the link's own accounts,
re-checked against the customer each time: an account moved to another customer since the link was made, or one
the link does not name, is never read. The figures come from the same selectors the customer's own pages use.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Prefetch, QuerySet

from mining.models import MiningAccount, Reward, RewardStatus, Worker
from mining.models.shares import ShareLink
from mining.selectors.workers import worker_list
from tenants.access import Scope, scoped

SHARE_REWARD_ROWS = 90
SHARE_WORKER_ROWS = 500


def share_link_list(*, scope: Scope, customer_id: int) -> QuerySet[ShareLink]:
    """The customer's links, newest first, with their accounts (scoped: a moved account is not named)."""
    return (
        scoped(ShareLink, scope.narrowed_to_customer(customer_id))
        .prefetch_related(Prefetch("accounts", queryset=scoped(MiningAccount, scope).only("pk", "name")
                                   .order_by("name")))
        .annotate(n_accounts=Count("accounts"))
    )


def share_link_state(link: ShareLink, *, now: datetime) -> str:
    """active / expired / revoked, in that order of precedence for the list."""
    if link.revoked_at is not None:
        return "revoked"
    return "expired" if link.expires_at <= now else "active"


def share_accounts(*, reader: Scope, link: ShareLink) -> list[MiningAccount]:
    """The link's accounts that still belong to its customer, by name."""
    return list(scoped(MiningAccount, reader).filter(pk__in=link.accounts.values("pk"), customer_id=link.customer_id)
                .order_by("name"))


def share_workers(*, reader: Scope, account_ids: list[int]) -> list[Worker]:
    """The shared accounts' workers, as the customer's workers page reads them."""
    return list(worker_list(scope=reader).filter(account_id__in=account_ids)[:SHARE_WORKER_ROWS])


def share_rewards(*, reader: Scope, account_ids: list[int]) -> list[Reward]:
    """The shared accounts' newest rewards (canceled ones left out)."""
    return list(scoped(Reward, reader).filter(account_id__in=account_ids).exclude(status=RewardStatus.CANCELED)
                .select_related("account").order_by("-date", "account__name")[:SHARE_REWARD_ROWS])
