"""Keeps Postgres in step with the pool, one mining account at a time. One module per seam:

* `lease.py`: one sync per account at a time (a conditional UPDATE; short, renewed per dataset, token carried by
  the task's retries);
* `run.py`: what a sync carries between datasets, and which customer owns each row (dated assignments);
* one module per dataset: `miner_info`, `workers`, `hashrate` (with the hourly/daily roll-ups), `rewards`,
  `payout`, `watcher_links`, `worker_hashrate`;
* `failures.py`: every reason a sync can stop, in a provider's words, and whether a retry can help;
* `account.py`: one account end to end; `fanout.py`: which accounts are due or stale.
"""

from mining.services.sync.account import DATASETS, mining_account_sync
from mining.services.sync.failures import SyncFailure, SyncInterrupted, sync_failure_classify
from mining.services.sync.fanout import mining_accounts_due, mining_accounts_stale
from mining.services.sync.lease import (
    mining_account_lease_claim,
    mining_account_lease_release,
    mining_account_lease_renew,
)
from mining.services.sync.run import SyncReport, SyncRun

__all__ = [
    "DATASETS",
    "SyncFailure",
    "SyncInterrupted",
    "SyncReport",
    "SyncRun",
    "mining_account_lease_claim",
    "mining_account_lease_release",
    "mining_account_lease_renew",
    "mining_account_sync",
    "mining_accounts_due",
    "mining_accounts_stale",
    "sync_failure_classify",
]
