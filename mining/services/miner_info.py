"""Refresh one account's miners/info (stratum URLs, pool fee, worker counts) outside the sync.

Why: the onboarding hand-over must show the stratum URLs the pool gives a brand-new account at once, not after the
next sync. It writes the same fields the sync's miners/info dataset writes (`miner_info_values`), so the two can
never disagree on shape. Like the sync it copies pool data and changes nothing a person chose, so it is not audited.
"""

from __future__ import annotations

from mining.models import MiningAccount
from mining.services.sync.miner_info import miner_info_values
from mining.services.upstream_writes import _client as upstream_client
from tenants.access import Capability, Scope, get_in_scope


def mining_account_miner_info_refresh(*, scope: Scope, account_id: int) -> MiningAccount:
    """Read miners/info for the account now (one call, no resend: a page waits on it) and store it.

    Raises the client's WhiteBitError when the pool does not answer, and ValidationError when the provider has
    no API key and secret; the caller then shows what was stored last.
    """
    scope.require(Capability.VIEW)
    account = get_in_scope(MiningAccount, scope, pk=account_id)
    info = upstream_client(scope, retries=False).miner_info(account=account.name)
    values = miner_info_values(info)
    changed = {k: v for k, v in values.items() if getattr(account, k) != v}
    if changed:
        MiningAccount.objects.filter(pk=account.pk, provider_id=scope.provider_id).update(**changed)
        for k, v in changed.items():
            setattr(account, k, v)
    return account
