"""The per-account sync lease: one sync per account at a time, across every worker on every machine.

Claimed by a conditional UPDATE (healthchecks' habit): a second worker's UPDATE matches nothing and it does
nothing. The lease is short (`MINING_SYNC_LEASE_S`, 90 s) and renewed before each dataset, so a live sync keeps
it and a dead one (a SIGKILLed worker, a database that went away) lets go within one lease, not after the task's
whole time limit; pages read an expired lease whose token was never cleared as "Stalled" (see
`mining/selectors_sync.py`).

The token is the caller's: the Celery task carries it into its own retries, so a retry re-takes a lease that its
first attempt could not release (the database was down when it tried), instead of being skipped as "busy".
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from mining.models import MiningAccount
from tenants.access import Scope, scoped


def lease_token_new() -> str:
    return secrets.token_hex(16)


def _until(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.MINING_SYNC_LEASE_S)


def mining_account_lease_claim(*, scope: Scope, account_id: int, now: datetime | None = None,
                               token: str | None = None) -> str | None:
    """Claim the account's sync lease; the token, or None when a live lease is held by someone else.

    A lease held under `token` itself is ours (a retry of the same task): it is re-taken at once.
    """
    now = now or timezone.now()
    token = token or lease_token_new()
    claimed = (
        scoped(MiningAccount, scope)
        .filter(pk=account_id, is_active=True)
        .filter(Q(sync_lease_until__isnull=True) | Q(sync_lease_until__lt=now) | Q(sync_lease_token=token))
        .update(sync_lease_token=token, sync_lease_until=_until(now), sync_step="")
    )
    return token if claimed else None


def mining_account_lease_renew(*, scope: Scope, account_id: int, token: str, step: str,
                               now: datetime | None = None) -> bool:
    """Extend our lease by one lease length before the next dataset; False when it is not ours any more (it
    expired and another worker claimed it: this sync must stop, the other one carries on)."""
    now = now or timezone.now()
    return bool(
        scoped(MiningAccount, scope).filter(pk=account_id, sync_lease_token=token)
        .update(sync_lease_until=_until(now), sync_step=step)
    )


def mining_account_lease_release(*, scope: Scope, account_id: int, token: str, **fields: Any) -> None:
    """Release only our own lease (a late finisher must not free a newer holder's), recording the outcome."""
    scoped(MiningAccount, scope).filter(pk=account_id, sync_lease_token=token).update(
        sync_lease_token="", sync_lease_until=None, sync_step="", **fields
    )
