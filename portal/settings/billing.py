"""Billing: the monthly close, month exports built by a task, and held payout changes (their beat entries are in
settings/queues.py)."""

from __future__ import annotations

from pathlib import Path

from portal.settings.base import VAR_DIR, env

# Close last month on BILLING_CLOSE_DAY at BILLING_CLOSE_HOUR_UTC (late rewards have settled by then).
BILLING_CLOSE_DAY = env.int("BILLING_CLOSE_DAY", default=3)
BILLING_CLOSE_HOUR_UTC = env.int("BILLING_CLOSE_HOUR_UTC", default=2)
# Month exports built by a task (billing/exports/jobs.py): where the files go, and the worker's lease.
BILLING_EXPORT_DIR = Path(env.str("BILLING_EXPORT_DIR", default=str(VAR_DIR / "exports")))
BILLING_EXPORT_LEASE_S = env.int("BILLING_EXPORT_LEASE_S", default=120)  # no heartbeat this long: the build died
# Held payout changes (mining/services/payouts.py): a sender's lease outlives its task's hard limit (the pool
# client's own retries included).
MINING_PAYOUT_LEASE_S = env.int("MINING_PAYOUT_LEASE_S", default=300)
