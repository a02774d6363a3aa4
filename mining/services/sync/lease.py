"""The per-account sync lease: one sync per account at a time, across every worker on every machine.

Claimed by a conditional UPDATE (healthchecks' habit): a second worker's UPDATE matches nothing and it does
nothing. The lease expires by itself, so a worker killed mid-sync blocks the account for at most
`MINING_SYNC_LEASE_S`, and every failure path releases it at once (see `account.py`).
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


def mining_account_lease_claim(*, scope: Scope, account_id: int, now: datetime | None = None) -> str | None:
    """Claim the account's sync lease; the token, or None when a live lease is held by someone else."""
    now = now or timezone.now()
    token = secrets.token_hex(16)
    claimed = (
        scoped(MiningAccount, scope)
        .filter(pk=account_id, is_active=True)
        .filter(Q(sync_lease_until__isnull=True) | Q(sync_lease_until__lt=now))
        .update(sync_lease_token=token, sync_lease_until=now + timedelta(seconds=settings.MINING_SYNC_LEASE_S))
    )
    return token if claimed else None


def mining_account_lease_release(*, scope: Scope, account_id: int, token: str, **fields: Any) -> None:
    """Release only our own lease (a late finisher must not free a newer holder's), recording the outcome."""
    scoped(MiningAccount, scope).filter(pk=account_id, sync_lease_token=token).update(
        sync_lease_token="", sync_lease_until=None, **fields
    )

