"""Celery: the broker (kombu's filesystem transport in the embedded default, so `make run` needs no broker
server), how tasks are acked, the queues, one beat at a time, and beat's whole schedule in one place."""

from __future__ import annotations

from celery.schedules import crontab

from portal.settings.base import REDIS_URL, VAR_DIR, env
from portal.settings.billing import BILLING_CLOSE_DAY, BILLING_CLOSE_HOUR_UTC
from portal.settings.mail import EMAIL_OUTBOX_SWEEP_EVERY_S
from portal.settings.upstream import MINING_SYNC_INTERVAL_S

_broker_dir = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem"):
    for _sub in ("in", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "control_folder": str(_broker_dir / "control"),
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
else:
    # Tasks are acked late; the visibility timeout must exceed every task's hard time limit.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Mail runs on its own queue and worker processes (compose: `notify`), so a mail server that accepts and never
# answers holds those, never a sync. The outbox sweep stays on the default queue: it only enqueues.
CELERY_NOTIFY_QUEUE = env.str("CELERY_NOTIFY_QUEUE", default="notify")
CELERY_TASK_ROUTES = {
    "tenants.tasks.email_send_task": {"queue": CELERY_NOTIFY_QUEUE},
}

# One beat at a time (a lock), and a schedule whose state survives restarts: portal/beat.py.
CELERY_BEAT_SCHEDULER = "portal.beat:DurableScheduler"
CELERY_BEAT_SYNC_EVERY = 1  # write each entry's last_run_at right after it is sent, not every 3 minutes
BEAT_LOCK_KEY = env.str("BEAT_LOCK_KEY", default="portal:beat:lock")
BEAT_LOCK_TTL_S = env.int("BEAT_LOCK_TTL_S", default=60)  # a killed beat's lock frees after this; renewed at 1/3

# Beat's schedule. django-celery-beat copies it into its tables at start; edit intervals there or here.
CELERY_BEAT_SCHEDULE = {
    "mining-sync-fanout": {"task": "mining.tasks.sync_fanout", "schedule": float(MINING_SYNC_INTERVAL_S)},
    "mining-hashrate-retention": {"task": "mining.tasks.hashrate_retention", "schedule": 86400.0},
    # the outbox: re-enqueue what was lost; the provider is told when mail is given up
    "tenants-email-outbox-sweep": {
        "task": "tenants.tasks.email_outbox_sweep_task", "schedule": float(EMAIL_OUTBOX_SWEEP_EVERY_S),
    },
    "mining-email-undelivered-alerts": {
        "task": "mining.tasks.email_undelivered_alerts_task", "schedule": float(EMAIL_OUTBOX_SWEEP_EVERY_S),
    },
    # billing: the monthly close, dead export builds, held payout changes whose hold ended
    "billing-close-previous-month": {
        "task": "billing.tasks.billing_close_previous_month",
        "schedule": crontab(minute=0, hour=BILLING_CLOSE_HOUR_UTC, day_of_month=BILLING_CLOSE_DAY),
    },
    "billing-export-sweep": {"task": "billing.tasks.billing_export_sweep_task", "schedule": 60.0},
    "billing-payout-changes-sweep": {"task": "billing.tasks.payout_changes_sweep_task", "schedule": 60.0},
    "billing-collections": {  # reminders, late fees, delinquency (billing/services/collections.py), daily
        "task": "billing.tasks.collections_run_all_task", "schedule": crontab(minute=0, hour=7),
    },
    # retention, daily
    "tenants-platform-retention": {
        "task": "tenants.tasks.platform_retention_task", "schedule": crontab(minute=30, hour=3),
    },
    "billing-export-retention": {
        "task": "billing.tasks.billing_export_retention_task", "schedule": crontab(minute=40, hour=3),
    },
}
