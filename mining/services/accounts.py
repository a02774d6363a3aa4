"""Writes for mining accounts: importing what the pool already has, assigning accounts to customers (dated)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from mining.account_moves import month_closed_from
from mining.models import (
    AccountAssignment,
    AccountHashrateSample,
    MiningAccount,
    Reward,
    RewardStatusChange,
    SyncState,
    Worker,
    WorkerHashrateSample,
)
from mining.services.upsert import RowCounts
from mining.upstream import client_for_provider
from mining.whitebit.types import UpstreamMiningAccount
from tenants.access import Capability, Scope, get_in_scope, scope_for_system, scoped
from tenants.audit import audit_record
from tenants.models import Customer, Provider


def mining_accounts_import(
    *, scope: Scope, upstream: list[UpstreamMiningAccount]
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
        if counts.created or counts.updated:
            audit_record(scope=scope, action="mining_account.import", object_type="mining.miningaccount",
                         object_repr=f"{counts.created} new, {counts.updated} updated from the pool",
                         after={"created": counts.created, "updated": counts.updated})
    return result, counts


def mining_accounts_import_from_pool(*, provider_id: int) -> RowCounts:
    """The import task's work: list the provider's accounts on the pool, then record them in one transaction."""
    scope = scope_for_system(provider_id=provider_id, actor="task:accounts_import")
    provider = get_in_scope(Provider, scope, pk=provider_id)
    upstream = list(client_for_provider(provider).accounts_iter())
    _, counts = mining_accounts_import(scope=scope, upstream=upstream)
    return counts


def mining_account_assign_start(*, account: MiningAccount, effective_on: date | None,
                                today: date | None = None) -> date | None:
    """The first day a new holder would hold `account`, or a field error saying why that day cannot be.

    Forms call it to answer field by field before anything is written; the service calls it again under the lock.
    """
    today = today or timezone.now().astimezone(UTC).date()
    if effective_on is not None and effective_on > today:
        raise ValidationError({"effective_on": "A move takes effect today or on a past day, not in the future."})
    history = list(AccountAssignment.objects.filter(account=account).order_by("valid_from"))
    if not history:
        return effective_on  # the first holder: None means the account's whole history
    start = effective_on or today
    if month_closed_from(account.provider_id, start):
        raise ValidationError({"effective_on": (
            f"{start:%B %Y} is already closed for billing: a move can start no earlier than the first open month."
        )})
    current = next((a for a in history if a.valid_to is None), None)
    if current is not None and current.valid_from is not None and start < current.valid_from:
        raise ValidationError({"effective_on": (
            f"The account is held by its current customer since {current.valid_from:%Y-%m-%d}; "
            "a move cannot start before that day."
        )})
    return start


def mining_account_assign(
    *, scope: Scope, account_id: int, customer_id: int | None, effective_on: date | None = None,
    today: date | None = None,
) -> MiningAccount:
    """Give an account to a customer (or take it back, `customer_id=None`) from a UTC day on.

    History is dated, not rewritten: rows dated before `effective_on` stay with the customer who held the account
    then, rows from that day on (and the undated ones: workers, sync state) belong to the new holder. The first
    holder of a never-assigned account gets its whole history unless `effective_on` says otherwise; a move
    defaults to today (UTC). The account's row lock serialises this with the sync, which resolves each row's owner
    under the same lock, so a sync running meanwhile cannot put rows under the wrong customer.
    """
    scope.require(Capability.MANAGE_ACCOUNTS)
    with transaction.atomic():
        account = get_in_scope(MiningAccount.objects.select_for_update(), scope, pk=account_id)
        customer = get_in_scope(Customer, scope, pk=customer_id) if customer_id is not None else None
        new_id = customer.pk if customer else None
        history = list(AccountAssignment.objects.filter(account=account).order_by("valid_from"))
        current = next((a for a in history if a.valid_to is None), None)
        old_id = current.customer_id if current else None
        if old_id == new_id:
            return account
        start = mining_account_assign_start(account=account, effective_on=effective_on, today=today)
        if current is not None and (current.valid_from == start):
            # A same-day correction: the current period simply changes hands.
            current.customer_id = new_id
            current.save(update_fields=["customer"])
        else:
            if current is not None:
                current.valid_to = start
                current.save(update_fields=["valid_to"])
            AccountAssignment.objects.create(provider_id=account.provider_id, account=account, customer_id=new_id,
                                             valid_from=start)
        account.customer_id = new_id
        account.save(update_fields=["customer"])
        _rows_follow_holder(scope, account, new_id, start)
        audit_record(scope=scope, action="mining_account.assign", target=account,
                     customer_id=new_id if new_id is not None else old_id,
                     before={"customer": old_id}, after={"customer": new_id, "effective_on": start})
    return account


def _rows_follow_holder(scope: Scope, account: MiningAccount, customer_id: int | None, start: date | None) -> None:
    """Rows dated from `start` on, and the undated ones, move to the new holder; older rows stay."""
    start_at = datetime.combine(start, time.min, tzinfo=UTC) if start is not None else None
    dated = {"date__gte": start} if start is not None else {}
    timed = {"at__gte": start_at} if start_at is not None else {}
    for model in (Worker, SyncState):
        scoped(model, scope).filter(account=account).update(customer_id=customer_id)
    for model in (AccountHashrateSample, WorkerHashrateSample):
        scoped(model, scope).filter(account=account, **timed).update(customer_id=customer_id)
    scoped(Reward, scope).filter(account=account, **dated).update(customer_id=customer_id)
    reward_dated = {"reward__date__gte": start} if start is not None else {}
    scoped(RewardStatusChange, scope).filter(reward__account=account, **reward_dated).update(customer_id=customer_id)
