"""E-mail side effects of accounts and access, run after the write commits (invitations go through the outbox,
tenants/services/invitations.py). Ids in, retried on transient errors.

Each message is marked sent only after the mail server took it; a failure raises and Celery retries with backoff,
so a failed e-mail is never silently lost (after the last retry the failure is in the worker's log).
"""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task

from tenants.services import notifications
from tenants.task_options import TASK_OPTIONS

logger = logging.getLogger(__name__)

_TRANSIENT = (smtplib.SMTPException, OSError)
_OPTIONS = {**TASK_OPTIONS, "max_retries": 8}


def _backoff(retries: int) -> int:
    return min(3600, 30 * 2**retries)


@shared_task(bind=True, **_OPTIONS)
def password_reset_send_task(self, user_id: int) -> bool:
    try:
        return notifications.password_reset_send(user_id=user_id)
    except _TRANSIENT as exc:
        logger.warning("password reset for user %s: e-mail not sent yet (%s); retrying", user_id, exc)
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
