"""One account's sync, end to end: lease, datasets in order, outcome, alerts.

The pool is read first, every dataset (all pages), then all their rows and watermarks are written in one
transaction under one lock of the account row (issue 22: one transaction and one lock instead of six), so a crash
leaves the cycle either fully applied or not at all; the next sync re-reads an overlap window, so nothing is lost
and (upserts on natural keys) nothing doubled. When the pool fails a dataset, the datasets read before it are still
written (in that one transaction) and the failure is recorded on the dataset that failed. The per-worker hashrate
(hourly, one request per worker) follows in its own transaction, since it needs the workers just written.

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

from mining.models import Alert, MiningAccount, SyncDataset, SyncState
from mining.services.alerts import alerts_evaluate_account
from mining.services.sync.failures import SyncFailure, SyncInterrupted, sync_failure_classify
from mining.services.sync.hashrate import fetch_account_hashrate, write_account_hashrate
from mining.services.sync.lease import (
    mining_account_lease_claim,
    mining_account_lease_release,
    mining_account_lease_renew,
)
from mining.services.sync.miner_info import fetch_miner_info, write_miner_info
from mining.services.sync.payout import fetch_payout, write_payout
from mining.services.sync.rewards import fetch_rewards, write_rewards
from mining.services.sync.run import LeaseLost, SyncReport, SyncRun, states_flush
from mining.services.sync.watcher_links import fetch_watcher_links, write_watcher_links
from mining.services.sync.worker_hashrate import sync_worker_hashrate
from mining.services.sync.workers import fetch_workers, write_workers
from mining.upstream import client_for_provider
from mining.whitebit.client import WhiteBitClient
from mining.whitebit.errors import WhiteBitError
from tenants.access import get_in_scope, scope_for_system

logger = logging.getLogger(__name__)

# Read from the pool in this order, then written in this order in one transaction (miner_info first: the workers'
# states use the pool's low count it writes onto the account row).
BATCH: list[tuple[str, Callable[[SyncRun, datetime], Any], Callable[[SyncRun, datetime, Any], None]]] = [
    (SyncDataset.MINER_INFO, fetch_miner_info, write_miner_info),
    (SyncDataset.WORKERS, fetch_workers, write_workers),
    (SyncDataset.HASHRATE_5M, fetch_account_hashrate, write_account_hashrate),
    (SyncDataset.REWARDS, fetch_rewards, write_rewards),
    (SyncDataset.PAYOUT, fetch_payout, write_payout),
    (SyncDataset.WATCHER_LINKS, fetch_watcher_links, write_watcher_links),
]
# Every dataset in the order the lease is renewed for it (the step pages show while a sync runs).
DATASETS: list[tuple[str, Callable]] = [(d, fetch) for d, fetch, _ in BATCH] + [
    (SyncDataset.WORKER_HASHRATE, sync_worker_hashrate)]


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
    account: MiningAccount | None = None
    run: SyncRun | None = None
    try:
        account = get_in_scope(MiningAccount.objects.select_related("provider", "customer"), scope, pk=account_id)
        account_name = account.name
        client = client or client_for_provider(account.provider)  # decrypts the secret: may fail too
        before = _request_counts(client)
        run = SyncRun(client=client, account=account, report=report, clock=clock)
        _sync_batch(run, scope, account_id, token)
        dataset = run.dataset = SyncDataset.WORKER_HASHRATE
        step_now = clock()
        try:
            if not mining_account_lease_renew(scope=scope, account_id=account_id, token=token, step=dataset):
                raise LeaseLost
            sync_worker_hashrate(run, step_now)
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
        dataset = run.dataset if run is not None else dataset
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
    if (failure is None or failure.expected) and _alerts_may_change(account, run, report):
        _evaluate_alerts(scope, account_id, clock())
    return report


def _sync_batch(run: SyncRun, scope, account_id: int, token: str) -> None:
    """Read every dataset of BATCH from the pool (renewing the lease before each), then write them all in one
    transaction. A dataset the pool fails stops the reading: the ones read before it are written, its failure is
    recorded (and named in `run.dataset`), and it is raised."""
    fetched: list[tuple[str, Callable, datetime, Any]] = []
    failed: tuple[str, Exception, datetime] | None = None
    for dataset, fetch, write in BATCH:
        step_now = run.clock()
        run.dataset = dataset
        try:
            if not mining_account_lease_renew(scope=scope, account_id=account_id, token=token, step=dataset):
                raise LeaseLost
            fetched.append((dataset, write, step_now, fetch(run, step_now)))
        except LeaseLost:
            raise
        except Exception as exc:  # noqa: BLE001 - recorded on its dataset and re-raised below
            failed = (dataset, exc, step_now)
            break
    if fetched:
        dataset, step_now = fetched[0][0], fetched[0][2]
        try:
            with transaction.atomic():
                run.lock_owner(lease_token=token)  # still ours: a sync that lost its lease writes nothing
                for dataset, write, step_now, payload in fetched:  # noqa: B007 - reported if its write fails
                    write(run, step_now, payload)
                states_flush(run)
        except LeaseLost:
            raise
        except Exception as exc:  # noqa: BLE001 - recorded on its dataset and re-raised below
            if failed is None:
                failed = (dataset, exc, step_now)
            # else: the read failure is what stopped the sync; the write of what came before it failed too (the
            # database went away): nothing was written, and the next cycle re-reads it all.
    if failed is not None:
        dataset, exc, step_now = failed
        run.dataset = dataset
        _record_dataset_failure(run, dataset, sync_failure_classify(exc), step_now)
        raise exc


def _alerts_may_change(account: MiningAccount | None, run: SyncRun | None, report: SyncReport) -> bool:
    """Whether evaluating the account's alerts could open or resolve one (issue 22: most cycles change nothing).

    Conditions depend on the synced rows (a dataset changed), on the clock (a worker offline for long enough), on
    the last sync's outcome (stale, failed) and on what is open (an alert waiting to resolve); otherwise the answer
    is the same as the last evaluation's. A new or edited rule is evaluated on the account's next changed cycle.
    """
    if account is None or run is None or account.sync_status != MiningAccount.SyncStatus.OK:
        return True
    if run.workers_offline or any(c.created or c.updated for c in report.rows.values()):
        return True
    return Alert.objects.filter(account_id=account.pk, resolved_at__isnull=True).exists()


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
