"""What an account's sync looks like right now, derived when a page or the API reads it.

`sync_status` is only the last outcome a worker managed to write: a worker killed mid-sync, a database that went
away before the outcome was recorded, a pool that hangs, a fleet with no live worker — none of them writes
anything, so the stored status would keep saying "In step". The displayed state is therefore computed from the
facts at read time: the last success, the lease (live, or expired without being released) and the interval.
Every page, the fleet's problem list and the API call `sync_health` (one rule, one wording).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from mining.models import MiningAccount, SyncDataset
from tenants.access import Scope, scoped


@dataclass(frozen=True)
class SyncProblem:
    account: MiningAccount
    reason: str


def sync_problem_list(*, scope: Scope, now: datetime) -> list[SyncProblem]:
    """Active accounts whose copy is failing, retrying, stalled or never made, each with the reason in words
    (`selectors_sync.sync_health`, the same words every page shows). One query."""
    qs = (
        scoped(MiningAccount, scope)
        .filter(is_active=True)
        .filter(sync_problem_filter(now=now))
        .select_related("customer")
        .order_by("customer__name", "name")
    )
    problems = []
    for account in qs:
        health = sync_health(account, now=now)
        if health.is_problem:
            label = health.label if health.code != "never" else ""
            problems.append(SyncProblem(account, f"{label}: {health.reason}" if label else health.reason))
    return problems


# The display calls a copy late after two intervals without a success (one whole cycle missed); the stale-sync
# alert, which e-mails people, waits for three (mining.services.alerts.STALE_AFTER_CYCLES).
LATE_AFTER_CYCLES = 2


class SyncHealthCode:
    IN_STEP = "in_step"
    SYNCING = "syncing"
    RETRYING = "retrying"
    STALLED = "stalled"
    FAILED = "failed"
    NEVER = "never"
    PAUSED = "paused"


LABELS = {
    SyncHealthCode.IN_STEP: "In step",
    SyncHealthCode.SYNCING: "Syncing",
    SyncHealthCode.RETRYING: "Retrying",
    SyncHealthCode.STALLED: "Stalled",
    SyncHealthCode.FAILED: "Needs attention",
    SyncHealthCode.NEVER: "Not synced yet",
    SyncHealthCode.PAUSED: "Paused",
}


BADGES = {SyncHealthCode.IN_STEP: "ok", SyncHealthCode.SYNCING: "ok", SyncHealthCode.FAILED: "err",
          SyncHealthCode.STALLED: "err"}


PROBLEMS = {SyncHealthCode.RETRYING, SyncHealthCode.STALLED, SyncHealthCode.FAILED, SyncHealthCode.NEVER}


@dataclass(frozen=True)
class SyncHealth:
    code: str
    reason: str

    @property
    def label(self) -> str:
        return LABELS[self.code]

    @property
    def badge(self) -> str:
        return BADGES.get(self.code, "warn")

    @property
    def is_problem(self) -> bool:
        return self.code in PROBLEMS


def sync_late_after() -> timedelta:
    return timedelta(seconds=settings.MINING_SYNC_INTERVAL_S * LATE_AFTER_CYCLES)


def _ago(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 120:
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    if minutes < 48 * 60:
        return f"{minutes // 60} hours"
    return f"{minutes // (24 * 60)} days"


def _step_words(step: str) -> str:
    try:
        return SyncDataset(step).label.lower()
    except ValueError:
        return step.replace("_", " ") or "its first step"


def _every() -> str:
    return f"{settings.MINING_SYNC_INTERVAL_S // 60 or 1} minutes"


def sync_health(account: MiningAccount, *, now: datetime) -> SyncHealth:
    """The account's sync as a person should read it at `now`, with the reason in words."""
    if not account.is_active:
        return SyncHealth(SyncHealthCode.PAUSED, "Paused: the portal does not copy this account.")
    error = account.sync_error
    if account.sync_status == MiningAccount.SyncStatus.FAILED:
        return SyncHealth(SyncHealthCode.FAILED, error or "The last sync failed; the operator's log has details.")
    held = bool(account.sync_lease_token) and account.sync_lease_until is not None
    if held and account.sync_lease_until >= now:
        if account.sync_status == MiningAccount.SyncStatus.RETRYING:
            return SyncHealth(SyncHealthCode.RETRYING, f"Trying again now. Last error: {error}" if error
                              else "Trying again now.")
        return SyncHealth(SyncHealthCode.SYNCING, f"Reading {_step_words(account.sync_step)} from the pool now.")
    if held:  # a lease that ran out without being released: its worker died, or could not record the outcome
        heard_at = account.sync_lease_until - timedelta(seconds=settings.MINING_SYNC_LEASE_S)
        where = f" while reading {_step_words(account.sync_step)}" if account.sync_step else ""
        return SyncHealth(
            SyncHealthCode.STALLED,
            f"The sync stopped without finishing{where}: nothing heard from its worker since {heard_at:%H:%M} UTC "
            f"(the worker was lost, or the database was unreachable). The next cycle syncs it again.",
        )
    last = account.last_synced_at
    if last is None:
        if account.created_at and account.created_at + sync_late_after() < now:
            return SyncHealth(SyncHealthCode.STALLED, f"Never copied from the pool, although added "
                              f"{_ago(now - account.created_at)} ago: check that the sync workers run.")
        if account.sync_status == MiningAccount.SyncStatus.RETRYING:
            return SyncHealth(SyncHealthCode.RETRYING, error or "The first sync will be retried.")
        return SyncHealth(SyncHealthCode.NEVER, "Never copied from the pool yet; the first sync is queued.")
    if last + sync_late_after() < now:
        why = f" Last error: {error}" if error else ""
        return SyncHealth(
            SyncHealthCode.STALLED,
            f"Last in step {_ago(now - last)} ago; the sync should run every {_every()}. No sync has finished "
            f"since: check that the sync workers and beat run.{why}",
        )
    if account.sync_status == MiningAccount.SyncStatus.RETRYING:
        return SyncHealth(SyncHealthCode.RETRYING, error or "The last sync will be retried.")
    return SyncHealth(SyncHealthCode.IN_STEP, f"Last in step {_ago(now - last)} ago.")


def with_sync_health(accounts: Iterable[MiningAccount], *, now: datetime) -> list[MiningAccount]:
    """The accounts as a list, each with `.sync_health` set (templates read `a.sync_health.label`)."""
    listed = list(accounts)
    for account in listed:
        account.sync_health = sync_health(account, now=now)
    return listed


def sync_problem_filter(*, now: datetime) -> Q:
    """A superset of the accounts whose health can be a problem at `now`, for one indexed query."""
    return (
        Q(sync_status__in=[MiningAccount.SyncStatus.FAILED, MiningAccount.SyncStatus.RETRYING])
        | Q(last_synced_at__isnull=True)
        | Q(last_synced_at__lt=now - sync_late_after())
        | (Q(sync_lease_until__lt=now) & ~Q(sync_lease_token=""))
    )
