"""The pool: the client's timeouts, rate budget and retries, and the sync's cadence, lease, windows and retention
(docs/SYNC.md explains the numbers and the rate-budget math)."""

from __future__ import annotations

from portal.settings.base import IS_PRODUCTION, env

WHITEBIT_TIMEOUT_S = env.float("WHITEBIT_TIMEOUT_S", default=10.0)
WHITEBIT_RATE_BUDGET_FRACTION = env.float("WHITEBIT_RATE_BUDGET_FRACTION", default=0.5)
WHITEBIT_RATE_LIMIT = env.int("WHITEBIT_RATE_LIMIT", default=1000)  # the pool's: requests per window per endpoint
WHITEBIT_RATE_WINDOW_S = env.float("WHITEBIT_RATE_WINDOW_S", default=10.0)
WHITEBIT_REDIS_PREFIX = env.str("WHITEBIT_REDIS_PREFIX", default="whitebit:")
WHITEBIT_MAX_RETRIES = env.int("WHITEBIT_MAX_RETRIES", default=4)
WHITEBIT_BACKOFF_BASE_S = env.float("WHITEBIT_BACKOFF_BASE_S", default=1.0)
WHITEBIT_BACKOFF_CAP_S = env.float("WHITEBIT_BACKOFF_CAP_S", default=30.0)
# A provider's upstream URL may point at a sandbox pool on loopback only outside production (tenants/validators.py).
WHITEBIT_SANDBOX_ALLOWED = not IS_PRODUCTION

MINING_SYNC_INTERVAL_S = env.int("MINING_SYNC_INTERVAL_S", default=300)
# The sync lease (docs/SYNC.md "Lease"): short, renewed before each dataset.
MINING_SYNC_LEASE_S = env.int("MINING_SYNC_LEASE_S", default=90)  # a dead sync lets go within this
MINING_SYNC_RELEASE_WAIT_S = env.float("MINING_SYNC_RELEASE_WAIT_S", default=30.0)  # retry the release this long
# A sync that lost the database retries every POLL_S until it is back, for WAIT_S at most (mining/tasks.py)
MINING_SYNC_DATABASE_POLL_S = env.float("MINING_SYNC_DATABASE_POLL_S", default=2.0)
MINING_SYNC_DATABASE_WAIT_S = env.float("MINING_SYNC_DATABASE_WAIT_S", default=600.0)
MINING_SYNC_WATCH_S = env.float("MINING_SYNC_WATCH_S", default=60.0)  # beat's own stale-sync check, in-process
WORKER_HEARTBEAT_FILE = env.str("WORKER_HEARTBEAT_FILE", default="")  # touched while the worker consumes
MINING_SYNC_TIME_LIMIT_S = env.int("MINING_SYNC_TIME_LIMIT_S", default=540)
MINING_HASHRATE_OVERLAP_S = env.int("MINING_HASHRATE_OVERLAP_S", default=1800)
MINING_REWARDS_OVERLAP_DAYS = env.int("MINING_REWARDS_OVERLAP_DAYS", default=3)
MINING_WORKER_HASHRATE_EVERY_S = env.int("MINING_WORKER_HASHRATE_EVERY_S", default=3600)
MINING_RETENTION_5M_DAYS = env.int("MINING_RETENTION_5M_DAYS", default=35)
MINING_RETENTION_1H_DAYS = env.int("MINING_RETENTION_1H_DAYS", default=400)
MINING_RETENTION_WORKER_1H_DAYS = env.int("MINING_RETENTION_WORKER_1H_DAYS", default=35)  # the pool keeps 7
