"""Alert channels and incidents (issue 20; docs/ALERTS.md): repeats, deliveries, webhooks, Telegram."""

from __future__ import annotations

from portal.settings.base import IS_PRODUCTION, env

ALERT_REPEAT_DEFAULT_S = env.int("ALERT_REPEAT_DEFAULT_S", default=3600)  # incidents without a rule (stale sync)
ALERT_TICK_EVERY_S = env.int("ALERT_TICK_EVERY_S", default=60)
ALERT_DELIVERY_TIMEOUT_S = env.float("ALERT_DELIVERY_TIMEOUT_S", default=10.0)
ALERT_DELIVERY_CLAIM_S = env.int("ALERT_DELIVERY_CLAIM_S", default=60)  # a killed worker's delivery is retaken after
ALERT_DELIVERY_MAX_ATTEMPTS = env.int("ALERT_DELIVERY_MAX_ATTEMPTS", default=8)
ALERT_DELIVERY_BACKOFF_BASE_S = env.int("ALERT_DELIVERY_BACKOFF_BASE_S", default=30)
ALERT_DELIVERY_BACKOFF_CAP_S = env.int("ALERT_DELIVERY_BACKOFF_CAP_S", default=1800)
ALERT_DELIVERY_SWEEP_AFTER_S = env.int("ALERT_DELIVERY_SWEEP_AFTER_S", default=120)
ALERT_CHANNEL_PAUSE_AFTER = env.int("ALERT_CHANNEL_PAUSE_AFTER", default=3)  # permanent failures in a row
ALERT_WEBHOOK_ALLOW_HTTP = env.bool("ALERT_WEBHOOK_ALLOW_HTTP", default=not IS_PRODUCTION)
ALERT_WEBHOOK_ALLOW_PRIVATE_HOSTS = env.bool("ALERT_WEBHOOK_ALLOW_PRIVATE_HOSTS", default=not IS_PRODUCTION)
TELEGRAM_API_BASE_URL = env.str("TELEGRAM_API_BASE_URL", default="https://api.telegram.org").rstrip("/")
TELEGRAM_POLL_EVERY_S = env.int("TELEGRAM_POLL_EVERY_S", default=15)
