"""Reads the REST API serves, always through tenants.access. Each returns a lazily evaluated, scoped queryset
whose page cost does not grow with the table (the lists are cursor-paginated on an indexed order)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from mining.models import (
    AccountHashrateSample,
    Alert,
    MiningAccount,
    Reward,
    WatcherLink,
    Worker,
    WorkerHashrateSample,
)
from mining.selectors_labels import with_labels
from mining.selectors_workers import with_worker_states
from tenants.access import Scope, get_in_scope, scoped


def mining_account_list_api(*, scope: Scope) -> QuerySet[MiningAccount]:
    """With each account's workers by state (`worker_states`), annotated in the same query."""
    return with_worker_states(with_labels(scoped(MiningAccount, scope)))


def worker_list_api(*, scope: Scope) -> QuerySet[Worker]:
    return with_labels(scoped(Worker, scope))


def reward_list_api(*, scope: Scope) -> QuerySet[Reward]:
    return scoped(Reward, scope)


def alert_list_api(*, scope: Scope) -> QuerySet[Alert]:
    return scoped(Alert, scope)


def watcher_link_list_api(*, scope: Scope) -> QuerySet[WatcherLink]:
    return scoped(WatcherLink, scope).prefetch_related(
        Prefetch("accounts", queryset=scoped(MiningAccount, scope).only("id").order_by("id"))
    )


def account_hashrate_series(*, scope: Scope, account_id: int) -> QuerySet[AccountHashrateSample]:
    """One account's samples (404 when the account is not in the scope); the caller filters interval and range."""
    account = get_in_scope(MiningAccount, scope, pk=account_id)
    return scoped(AccountHashrateSample, scope).filter(account=account)


def worker_hashrate_series(*, scope: Scope, worker_id: int) -> QuerySet[WorkerHashrateSample]:
    worker = get_in_scope(Worker, scope, pk=worker_id)
    return scoped(WorkerHashrateSample, scope).filter(worker=worker)
