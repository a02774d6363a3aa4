"""One account's sync, end to end: lease, datasets in order, outcome, alerts.

For each dataset the pool is read first (all pages), then its rows and its watermark are written in one
transaction, so a crash between datasets leaves each either fully applied or not at all; the next sync re-reads an
overlap window, so nothing is lost and (upserts on natural keys) nothing doubled.

Whatever stops a sync (the pool, the encryption key, the database, Redis, a bug) is classified by
`failures.py`; the account gets the reason in words and its lease back at once, and the caller decides whether to
retry (the Celery task) or carry on with the next account (`sync_accounts`).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.utils import InterfaceError, OperationalError
from django.utils import timezone

from mining.models import MiningAccount, SyncDataset, SyncState
from mining.services.alerts import alerts_evaluate_account
from mining.services.sync.failures import SyncFailure, SyncInterrupted, sync_failure_classify
from mining.services.sync.hashrate import sync_account_hashrate
from mining.services.sync.lease import (
    mining_account_lease_claim,
    mining_account_lease_release,
    mining_account_lease_renew,
)
from mining.services.sync.miner_info import sync_miner_info
from mining.services.sync.payout import sync_payout
from mining.services.sync.rewards import sync_rewards
from mining.services.sync.run import SyncReport, SyncRun
from mining.services.sync.watcher_links import sync_watcher_links
from mining.services.sync.worker_hashrate import sync_worker_hashrate
from mining.services.sync.workers import sync_workers
from mining.upstream import client_for_provider
from mining.whitebit.client import WhiteBitClient
from mining.whitebit.errors import WhiteBitError
from tenants.access import get_in_scope, scope_for_system

logger = logging.getLogger(__name__)

class LeaseLost(Exception):
    """The lease is not ours any more: another worker claimed the account after ours expired."""


DATASETS: list[tuple[str, Callable[[SyncRun, datetime], None]]] = [
    (SyncDataset.MINER_INFO, sync_miner_info),
    (SyncDataset.WORKERS, sync_workers),
    (SyncDataset.HASHRATE_5M, sync_account_hashrate),
    (SyncDataset.REWARDS, sync_rewards),
    (SyncDataset.PAYOUT, sync_payout),
    (SyncDataset.WATCHER_LINKS, sync_watcher_links),
    (SyncDataset.WORKER_HASHRATE, sync_worker_hashrate),
]


def _request_counts(client: WhiteBitClient | None) -> Counter:
    """Requests per endpoint path, plus retries and 429s seen, from the client's counters."""
    if client is None:
        return Counter()
    snapshot = client.stats.snapshot()
    counts = Counter({k.removeprefix("requests:"): v for k, v in snapshot.items() if k.startswith("requests:")})
    counts["retries"] = snapshot.get("retries", 0)
    counts["rate_limited_429"] = snapshot.get("rate_limited", 0)
    counts["timeouts"] = snapshot.get("timeouts", 0)
    return counts


def _with_fresh_connection(write: Callable[[], Any], *, what: str, wait_s: float = 0.0) -> bool:
    """Run a bookkeeping write; when the connection died under us, reconnect and try again, for up to `wait_s`
    (backing off), so an outcome is recorded as soon as the database answers again. True when it was written.

    Outside a transaction only: inside one (a caller's atomic block) a reconnect would silently drop its work.
    """
    deadline = time.monotonic() + wait_s
    pause = 0.25
    while True:
        try:
            write()
            return True
        except (OperationalError, InterfaceError):
            if connection.in_atomic_block:
                raise
            connection.close()
        if time.monotonic() + pause > deadline:
            break
        time.sleep(pause)
        pause = min(pause * 2, 2.0)  # polled often: the outcome is recorded within ~2 s of the database's return
    try:
        write()
        return True
    except (OperationalError, InterfaceError):
        connection.close()
        logger.error("could not record %s: the database is unreachable (the lease expires by itself within "
                     "%s s and the task's retry re-takes it with its token)", what, settings.MINING_SYNC_LEASE_S)
        return False


def _record_dataset_failure(run: SyncRun, dataset: str, failure: SyncFailure, now: datetime) -> None:
    def write() -> None:
        run.state(dataset)  # a first sync may fail before its bookkeeping rows exist
        SyncState.objects.filter(account=run.account, dataset=dataset).update(
            last_attempt_at=now, last_error=failure.message[:2000], consecutive_failures=F("consecutive_failures") + 1
        )

    _with_fresh_connection(write, what=f"the failure of {dataset}")


def mining_account_sync(*, provider_id: int, account_id: int, client: WhiteBitClient | None = None,
                        raise_retryable: bool = True, now: datetime | None = None,
                        lease_token: str | None = None) -> SyncReport:
    """Sync one account. Busy → skipped; a failure → recorded in words, lease released; retryable → also raised.

    `now` freezes the sync's clock (tests and replays); by default each dataset reads the wall clock.
    `lease_token` is the caller's (the task passes the same one to its retries): a lease still held under it
    is ours, so a retry is never skipped because its own first attempt could not release.
    """
    clock: Callable[[], datetime] = (lambda: now) if now is not None else timezone.now
    scope = scope_for_system(provider_id=provider_id, actor="task:sync")
    report = SyncReport()
    try:
        token = mining_account_lease_claim(scope=scope, account_id=account_id, now=clock(), token=lease_token)
    except (OperationalError, InterfaceError) as exc:
        # Nothing was claimed or written: the task waits for the database and tries again (it used to be dropped,
        # leaving the account to the next fan-out, a whole interval after the database came back).
        connection.close()
        raise SyncInterrupted(sync_failure_classify(exc)) from exc
    if token is None:
        report.accounts_skipped += 1
        return report
    outcome: dict[str, Any] = {}
    failure: SyncFailure | None = None
    account_name, dataset = str(account_id), ""
    before = _request_counts(client)
    try:
        account = get_in_scope(MiningAccount.objects.select_related("provider", "customer"), scope, pk=account_id)
        account_name = account.name
        client = client or client_for_provider(account.provider)  # decrypts the secret: may fail too
        before = _request_counts(client)
        run = SyncRun(client=client, account=account, report=report, clock=clock)
        for dataset, step in DATASETS:
            step_now = clock()
            try:
                if not mining_account_lease_renew(scope=scope, account_id=account_id, token=token, step=dataset):
                    raise LeaseLost
                step(run, step_now)
            except LeaseLost:
                raise
            except Exception as exc:
                _record_dataset_failure(run, dataset, sync_failure_classify(exc), step_now)
                raise
        outcome = {"sync_status": MiningAccount.SyncStatus.OK, "sync_error": "", "last_synced_at": clock()}
        report.accounts_synced += 1
    except LeaseLost:
        # Our lease ran out (a dataset outlasted MINING_SYNC_LEASE_S) and another worker holds the account now:
        # it carries on from the watermarks; writing an outcome here would overwrite its own.
        logger.warning("sync of account %s stopped before %s: its lease was taken over", account_name, dataset)
        report.accounts_skipped += 1
        report.requests.update(_request_counts(client) - before)
        return report
    except Exception as exc:
        failure = sync_failure_classify(exc)
        if failure.expected:
            logger.warning("sync of account %s stopped: %s", account_name, failure.message)
        else:
            logger.exception("sync of account %s stopped by an unexpected error", account_name)
        report.accounts_failed += 1
        report.errors.append({"account": account_name, "dataset": str(dataset), "error": failure.message,
                              "retryable": failure.retryable})
        status = MiningAccount.SyncStatus.RETRYING if failure.retryable else MiningAccount.SyncStatus.FAILED
        outcome = {"sync_status": status, "sync_error": failure.message[:2000]}
        if failure.retryable and raise_retryable:
            _finish(scope, account_id, token, outcome, report, client, before)
            if isinstance(exc, WhiteBitError):
                raise
            raise SyncInterrupted(failure) from exc
    _finish(scope, account_id, token, outcome, report, client, before)
    if failure is None or failure.expected:
        _evaluate_alerts(scope, account_id, clock())
    return report


def _finish(scope, account_id: int, token: str, outcome: dict[str, Any], report: SyncReport,
            client: WhiteBitClient | None, before: Counter) -> None:
    report.requests.update(_request_counts(client) - before)
    _with_fresh_connection(
        lambda: mining_account_lease_release(scope=scope, account_id=account_id, token=token, **outcome),
        what="the sync outcome", wait_s=settings.MINING_SYNC_RELEASE_WAIT_S,
    )


def _evaluate_alerts(scope, account_id: int, now: datetime) -> None:
    """Alerts after the outcome is recorded; their failure must not undo or hide the sync's own result."""
    try:
        with transaction.atomic():
            alerts_evaluate_account(scope=scope, account_id=account_id, now=now)
    except Exception:
        logger.exception("alert evaluation for account %s failed; the next sync evaluates again", account_id)
