"""Celery tasks of the e-mail outbox: thin wrappers around tenants.email, taking ids only.

Both are `acks_late` with `reject_on_worker_lost`, so a worker killed mid-send leaves the message to be
redelivered; the row's claim (a conditional UPDATE with a lease) makes a redelivered or duplicated message send
once. The hard time limit sits below the claim's lease, so a stuck send is killed before anyone else may claim
the row. Retries are scheduled on the row (`next_attempt_at`, until its give-up time), not by Celery.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from tenants.email import email_outbox_sweep, email_send
from tenants.services.retention import platform_retention_apply
from tenants.task_options import TASK_OPTIONS


@shared_task(bind=True, max_retries=None, time_limit=settings.EMAIL_OUTBOX_CLAIM_S - 30, **TASK_OPTIONS)
def email_send_task(self, email_id: int) -> str:
    """Send one outbox row; a transient failure comes back with the row's own backoff."""
    result = email_send(email_id=email_id)
    if result.retry_in_s is not None:
        raise self.retry(countdown=result.retry_in_s)
    return result.outcome


@shared_task(**TASK_OPTIONS)
def email_outbox_sweep_task() -> int:
    """Beat, every EMAIL_OUTBOX_SWEEP_EVERY_S: re-enqueue mail whose task or worker was lost."""
    return len(email_outbox_sweep())


@shared_task(**TASK_OPTIONS)
def platform_retention_task() -> dict:
    """Beat, daily: prune finished e-mail, idempotency records, login attempts, sessions; archive old audit months."""
    return platform_retention_apply(now=timezone.now())
