"""Billing's Celery tasks: thin; they take ids, open the scope themselves, and never retry a refusal."""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billing.exports.jobs import export_job_run, export_jobs_expire
from billing.exports.retention import export_files_prune
from billing.periods import previous_month
from billing.services.closing import billing_month_close
from billing.services.collections import collections_run
from billing.services.invoices import invoices_issue_month
from billing.services.payouts import PayoutApplyRetry, payout_change_apply
from mining.services.payouts import payout_changes_due
from tenants.access import UNSCOPED_across_all_tenants, scope_for_system
from tenants.models import Provider
from tenants.task_options import TASK_OPTIONS

logger = logging.getLogger(__name__)


@shared_task(**TASK_OPTIONS)
def billing_close_previous_month() -> int:
    """Beat, on BILLING_CLOSE_DAY of each month: one close task per provider for the month before."""
    period = previous_month(timezone.now().date())
    ids = list(UNSCOPED_across_all_tenants(Provider, reason="monthly close fan-out").values_list("pk", flat=True))
    for provider_id in ids:
        transaction.on_commit(
            lambda pid=provider_id: billing_month_close_task.delay(pid, period.isoformat()))
    return len(ids)


@shared_task(bind=True, max_retries=3, **TASK_OPTIONS)
def billing_month_close_task(self, provider_id: int, period_iso: str) -> dict:
    """Close one provider's month. Idempotent, so a redelivered message is harmless; a refusal is logged."""
    scope = scope_for_system(provider_id=provider_id, actor="task:close_month")
    try:
        result = billing_month_close(scope=scope, period=date.fromisoformat(period_iso), now=timezone.now())
    except ValidationError as exc:
        logger.error("closing %s for provider %s was refused: %s", period_iso, provider_id, exc.messages)
        return {"refused": exc.messages}
    return {"statements": result.statements, "already_closed": result.already_closed}


@shared_task(time_limit=3000, soft_time_limit=2940, **TASK_OPTIONS)
def billing_export_build_task(provider_id: int, job_id: int) -> str:
    """Build one month export (XLSX or the PDFs' ZIP). A redelivered message finds the job claimed and skips.

    The hard limit stays under the broker's visibility timeout (3600 s), so Redis does not hand a live build to a
    second worker; a killed worker's job is failed by the lease sweep below."""
    return export_job_run(provider_id=provider_id, job_id=job_id)


@shared_task(**TASK_OPTIONS)
def billing_export_sweep_task() -> int:
    """Beat, every minute: jobs left running by a dead worker or queued on a lost queue are failed with a reason."""
    return export_jobs_expire(now=timezone.now())


@shared_task(**TASK_OPTIONS)
def billing_export_retention_task() -> int:
    """Beat, daily: built export files past RETENTION_EXPORT_DAYS are removed (the month can be built again)."""
    return export_files_prune(now=timezone.now())


# --- held payout changes (issue 15): beat sweeps every minute, one task per change whose hold ended -------------


@shared_task(**TASK_OPTIONS)
def payout_changes_sweep_task() -> int:
    """Beat, every minute: a task for each held change whose hold ended (and each whose worker died mid-send).

    Enqueuing a change twice (a slow queue, a retry racing the sweep) is harmless: the second finds it claimed."""
    due = payout_changes_due(now=timezone.now())
    for provider_id, change_id in due:
        payout_change_apply_task.apply_async(args=[provider_id, change_id], expires=300)
    return len(due)


@shared_task(bind=True, max_retries=6, soft_time_limit=settings.MINING_PAYOUT_LEASE_S - 90,
             time_limit=settings.MINING_PAYOUT_LEASE_S - 60, **TASK_OPTIONS)
def payout_change_apply_task(self, provider_id: int, change_id: int) -> str:
    """Send one change to the pool; transient pool errors retry with backoff, a refusal is recorded as failed."""
    try:
        return payout_change_apply(provider_id=provider_id, change_id=change_id, now=timezone.now())
    except PayoutApplyRetry as exc:
        countdown = min(300, 15 * 2**self.request.retries)
        logger.warning("payout change %s will retry in %ss: %s", change_id, countdown, exc.user_message)
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(bind=True, max_retries=3, **TASK_OPTIONS)
def billing_invoices_issue_task(self, provider_id: int, period_iso: str) -> dict:
    """Issue a closed month's invoices (the month page's button, or after a close). Idempotent: a redelivered
    message issues nothing twice; a refusal (month not closed, no BTC price) is logged, not retried."""
    scope = scope_for_system(provider_id=provider_id, actor="task:issue_invoices")
    try:
        result = invoices_issue_month(scope=scope, period=date.fromisoformat(period_iso), now=timezone.now())
    except ValidationError as exc:
        logger.error("issuing invoices of %s for provider %s was refused: %s", period_iso, provider_id, exc.messages)
        return {"refused": exc.messages}
    return {"issued": result.issued, "already": result.already}


# Collections (issue 19): reminders, late fees and delinquency, once a day per provider; any repeat is harmless.
@shared_task(**TASK_OPTIONS)
def collections_run_all_task() -> int:
    """Beat, daily: one collections task per provider."""
    ids = list(UNSCOPED_across_all_tenants(Provider, reason="daily collections fan-out").values_list("pk", flat=True))
    for provider_id in ids:
        collections_run_task.delay(provider_id)
    return len(ids)


@shared_task(**TASK_OPTIONS)
def collections_run_task(provider_id: int) -> dict:
    return collections_run(provider_id=provider_id).as_dict()
