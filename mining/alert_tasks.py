"""Celery tasks of alert delivery (issue 20): sends on the `notify` queue, beat's tick, sweep and Telegram poll."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from tenants.task_options import TASK_OPTIONS


@shared_task(bind=True, max_retries=None, time_limit=settings.ALERT_DELIVERY_CLAIM_S - 10, **TASK_OPTIONS)
def alert_delivery_send_task(self, delivery_id: int) -> str:
    """Send one delivery; a transient failure comes back after the row's own backoff (same row, same webhook-id)."""
    from mining.services.alert_transport import alert_delivery_send

    result = alert_delivery_send(delivery_id=delivery_id)
    if result.retry_in_s is not None:
        raise self.retry(countdown=result.retry_in_s)
    return result.outcome


@shared_task(**TASK_OPTIONS)
def incidents_tick_task() -> dict:
    """Beat, every ALERT_TICK_EVERY_S: fire held incidents whose mute or maintenance ended, repeat open ones,
    and re-enqueue deliveries whose task or worker was lost."""
    from mining.services.alert_transport import alert_deliveries_sweep
    from mining.services.incidents import incidents_tick

    now = timezone.now()
    done = incidents_tick(now=now)
    done["swept"] = len(alert_deliveries_sweep(now=now))
    return done


@shared_task(**TASK_OPTIONS)
def telegram_poll_task() -> dict:
    """Beat, every TELEGRAM_POLL_EVERY_S: bind chats that sent `/start <code>` to the provider's bot."""
    from mining.services.alert_channels import telegram_poll

    return telegram_poll()
