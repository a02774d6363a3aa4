"""Writes for mining accounts: importing what the pool already has, assigning accounts to customers."""

from __future__ import annotations

from django.db import transaction

from mining.models import MiningAccount
from mining.services.upsert import RowCounts
from mining.whitebit.types import MiningAccount as UpstreamAccount
from tenants.access import Scope, get_in_scope, scoped
from tenants.models import Customer


def mining_accounts_import(
    *, scope: Scope, upstream: list[UpstreamAccount]
) -> tuple[list[MiningAccount], RowCounts]:
    """Record the accounts the provider's key sees on the pool (new ones unassigned). Idempotent.

    The caller reads the list from the pool first (`client.accounts_iter()`), so a refused request writes nothing.
    """
    counts = RowCounts()
    result = []
    with transaction.atomic():
        existing = {a.name: a for a in scoped(MiningAccount, scope).filter(name__in=[u.name for u in upstream])}
        for item in upstream:
            account = existing.get(item.name)
            if account is None:
                account = MiningAccount.objects.create(
                    provider_id=scope.provider_id, name=item.name, upstream_created_at=item.created_at
                )
                counts.created += 1
            elif account.upstream_created_at != item.created_at:
                account.upstream_created_at = item.created_at
                account.save(update_fields=["upstream_created_at"])
                counts.updated += 1
            else:
                counts.unchanged += 1
            result.append(account)
    return result, counts


def mining_account_assign(*, scope: Scope, account_id: int, customer_id: int | None) -> MiningAccount:
    """Give an account to a customer (or take it back). Its synced rows follow it from then on."""
    from mining.models import AccountHashrateSample, Reward, SyncState, WatcherLink, Worker, WorkerHashrateSample

    with transaction.atomic():
        account = get_in_scope(MiningAccount.objects.select_for_update(), scope, pk=account_id)
        customer = get_in_scope(Customer, scope, pk=customer_id) if customer_id is not None else None
        if account.customer_id == (customer.pk if customer else None):
            return account
        account.customer = customer
        account.save(update_fields=["customer"])
        for model in (Worker, AccountHashrateSample, WorkerHashrateSample, Reward, SyncState):
            scoped(model, scope).filter(account=account).update(customer=customer)
        scoped(WatcherLink, scope).filter(accounts=account).update(customer=customer)
    return account
