"""E-mail: the backend (console in development, locmem in tests, a real SMTP URL in production) and the outbox
(tenants/email.py, docs/EMAIL.md): every message is a row sent by a retried task; beat re-enqueues what a lost
queue or a killed worker left behind. The outbox's tasks and queue are in settings/queues.py."""

from __future__ import annotations

from portal.settings.base import DJANGO_ENV, IS_PRODUCTION, env

EMAIL_CONFIG = env.email_url(
    "EMAIL_URL",
    default="memorymail://" if DJANGO_ENV == "test" else ("smtp://localhost:25" if IS_PRODUCTION else "consolemail://"),
)
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portal@localhost")
# Seconds an SMTP connect or reply may take: a mail server that accepts and never answers must not hang a task.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# A message is retried until this long after it was queued, then failed and the provider told (an alert).
EMAIL_OUTBOX_GIVE_UP_AFTER_S = env.int("EMAIL_OUTBOX_GIVE_UP_AFTER_S", default=24 * 3600)
EMAIL_OUTBOX_FAILED_ALERT_DAYS = env.int("EMAIL_OUTBOX_FAILED_ALERT_DAYS", default=7)  # failures the alert counts
EMAIL_OUTBOX_BACKOFF_BASE_S = env.int("EMAIL_OUTBOX_BACKOFF_BASE_S", default=60)  # doubles per attempt
EMAIL_OUTBOX_BACKOFF_CAP_S = env.int("EMAIL_OUTBOX_BACKOFF_CAP_S", default=1800)  # < the broker's visibility timeout
EMAIL_OUTBOX_CLAIM_S = env.int("EMAIL_OUTBOX_CLAIM_S", default=300)  # a sender's lease; > the send task's hard limit
EMAIL_OUTBOX_SEND_TIMEOUT_S = env.int("EMAIL_OUTBOX_SEND_TIMEOUT_S", default=20)  # per SMTP call, unless EMAIL_TIMEOUT
EMAIL_OUTBOX_SWEEP_AFTER_S = env.int("EMAIL_OUTBOX_SWEEP_AFTER_S", default=300)  # queued this long past due: lost
EMAIL_OUTBOX_SWEEP_EVERY_S = env.int("EMAIL_OUTBOX_SWEEP_EVERY_S", default=120)
