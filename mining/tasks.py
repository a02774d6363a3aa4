"""Celery tasks: thin wrappers that take ids, open the tenant scope themselves, and retry only transient errors.

Every task is `acks_late` with `reject_on_worker_lost`: a worker killed mid-task leaves the message to be
redelivered, and because each sync is idempotent (lease + upserts + watermarks in one transaction) running it
again is always safe. The hard time limit stays below both the lease and the broker's visibility timeout.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from mining.services.accounts import mining_accounts_import_from_pool
from mining.services.alerts import alerts_evaluate_account
from mining.services.mail_alerts import alerts_evaluate_undelivered_mail
from mining.services.retention import hashrate_retention_apply
from mining.services.sync import SyncInterrupted, mining_account_sync, mining_accounts_due, mining_accounts_stale
from mining.services.sync.lease import lease_token_new
from mining.whitebit.errors import WhiteBitError
from tenants.access import scope_for_system
from tenants.task_options import TASK_OPTIONS

SYNC_MAX_RETRIES = 3  # for pool and Redis faults; a lost database is waited for on its own horizon

logger = logging.getLogger(__name__)


@shared_task(**TASK_OPTIONS)
def sync_fanout() -> int:
    """Beat calls this every MINING_SYNC_INTERVAL_S: one sync task per active account.

    Enqueuing an account twice (a slow queue, a lost queue refilled) is harmless: the second finds the lease
    held or the data unchanged. Stale-sync alerts are not raised here: a fleet with no live worker never runs
    this, so beat checks staleness itself (`mining.beat_watch`).
    """
    due = mining_accounts_due()
    for provider_id, account_id in due:
        sync_account.apply_async(args=[provider_id, account_id], expires=settings.MINING_SYNC_INTERVAL_S)
    return len(due)


def sync_stale_check(*, now=None) -> int:
    """Open (or keep open) the stale-sync alert of every active account not synced for three cycles; how many.

    Run by beat's own process (`mining.beat_watch`), not by a worker, so it fires when no worker is alive.
    """
    stale = mining_accounts_stale(now=now)
    for provider_id, account_id in stale:
        try:
            alerts_evaluate_account(scope=scope_for_system(provider_id=provider_id, actor="beat:stale-check"),
                                    account_id=account_id, now=now)
        except Exception:
            logger.exception("stale-sync check of account %s failed; the next check tries again", account_id)
    return len(stale)


@shared_task(
    bind=True,
    max_retries=SYNC_MAX_RETRIES,
    soft_time_limit=settings.MINING_SYNC_TIME_LIMIT_S - 30,
    time_limit=settings.MINING_SYNC_TIME_LIMIT_S,
    **TASK_OPTIONS,
)
def sync_account(self, provider_id: int, account_id: int, lease_token: str | None = None,
                 database_waits: int = 0) -> dict:
    """Sync one account; transient errors (pool, database, Redis) retry with backoff, permanent ones are recorded.

    The lease token is made here and carried into every retry, so a retry re-takes a lease its first attempt
    could not release (the database was down) instead of finding the account "busy" and doing nothing.
    """
    token = lease_token or lease_token_new()
    try:
        report = mining_account_sync(provider_id=provider_id, account_id=account_id, lease_token=token)
    except (WhiteBitError, SyncInterrupted) as exc:
        if not exc.retryable:  # pragma: no cover - mining_account_sync records permanent errors itself
            raise
        plan = sync_retry_plan(exc, retries=self.request.retries, database_waits=database_waits)
        if plan is None:
            raise
        logger.warning("sync of account %s will retry in %ss: %s", account_id, plan.countdown_s, exc.user_message)
        raise self.retry(exc=exc, countdown=plan.countdown_s, args=[provider_id, account_id],
                         kwargs={"lease_token": token, "database_waits": plan.database_waits},
                         max_retries=plan.max_retries) from exc
    return report.as_dict()["accounts"]


@dataclass(frozen=True)
class SyncRetryPlan:
    countdown_s: float
    database_waits: int
    max_retries: int


def sync_retry_plan(exc: BaseException, *, retries: int, database_waits: int = 0) -> SyncRetryPlan | None:
    """When the task tries again, or None to give up (the next fan-out takes the account then).

    A pool or Redis fault backs off (15 s, 30 s, 60 s): hammering a failing pool helps nobody. A lost database is
    different: nothing can run until it is back, and the moment it is back every account should sync again, well
    within one interval. So that retry polls every `MINING_SYNC_DATABASE_POLL_S` for up to
    `MINING_SYNC_DATABASE_WAIT_S` in all, and those waits do not use up the pool's retries.
    """
    poll_s = settings.MINING_SYNC_DATABASE_POLL_S
    if getattr(exc, "database_lost", False):
        if (database_waits + 1) * poll_s > settings.MINING_SYNC_DATABASE_WAIT_S:
            return None
        return SyncRetryPlan(poll_s, database_waits + 1, max_retries=retries + 1)
    pool_retries = retries - database_waits
    if pool_retries >= SYNC_MAX_RETRIES:
        return None
    return SyncRetryPlan(min(300, 15 * 2**pool_retries), database_waits, max_retries=database_waits + SYNC_MAX_RETRIES)


@shared_task(**TASK_OPTIONS)
def hashrate_retention() -> dict:
    """Daily: drop fine-grained hashrate points past their retention (coarser ones stay)."""
    return hashrate_retention_apply(now=timezone.now())


# The portal (issue 10): staff ask for an import of the accounts the provider's key sees on the pool.
@shared_task(bind=True, max_retries=3, **TASK_OPTIONS)
def mining_accounts_import_task(self, provider_id: int) -> dict:
    """Read the pool's account list and record it (new ones unassigned); transient pool errors retry."""
    try:
        counts = mining_accounts_import_from_pool(provider_id=provider_id)
    except WhiteBitError as exc:
        if not exc.retryable:
            logger.warning("account import for provider %s refused: %s", provider_id, exc.user_message)
            return {"error": exc.user_message}
        raise self.retry(exc=exc, countdown=min(300, 15 * 2**self.request.retries)) from exc
    return {"created": counts.created, "updated": counts.updated, "unchanged": counts.unchanged}


# Issue 17: a provider is told when its e-mail is given up (the outbox gives up after EMAIL_OUTBOX_GIVE_UP_AFTER_S).
@shared_task(**TASK_OPTIONS)
def email_undelivered_alerts_task() -> dict:
    """Beat, every EMAIL_OUTBOX_SWEEP_EVERY_S: open or resolve each provider's "E-mail not delivered" alert."""
    return alerts_evaluate_undelivered_mail(now=timezone.now())

