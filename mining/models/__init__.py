"""The portal's copy of the pool, one module per entity: accounts (and who holds them when), workers, hashrate
series, rewards, watcher links, sync state, alerts, labels and held payout changes.

The pool is the source of truth; these tables are a faithful, idempotent copy written only by `mining.services`
(upserts on natural keys). Every row carries `provider`, and `customer` where it belongs to one (`base.py`).
Django finds an app's models by importing `mining.models`: this module imports each entity's module, and callers
import from here (`from mining.models import Worker`).
"""

from mining.models.accounts import AccountAssignment, MiningAccount, PayoutDestination
from mining.models.alerts import Alert, AlertKind, AlertRule
from mining.models.base import HASHRATE, CustomerOwned
from mining.models.hashrate import AccountHashrateSample, Interval, WorkerHashrateSample
from mining.models.labels import LABEL_NAME_MAX, AccountLabel, Label, LabelKind, WorkerLabel
from mining.models.payouts import (
    CANCELABLE_STATUSES,
    PENDING_STATUSES,
    PayoutChange,
    PayoutChangeStatus,
    PayoutChangeToken,
)
from mining.models.rewards import Reward, RewardStatus, RewardStatusChange
from mining.models.shares import ShareLevel, ShareLink
from mining.models.sync import SyncDataset, SyncState
from mining.models.watcher_links import WatcherLink
from mining.models.workers import Worker

__all__ = [
    "AccountAssignment",
    "AccountHashrateSample",
    "AccountLabel",
    "Alert",
    "AlertKind",
    "AlertRule",
    "CANCELABLE_STATUSES",
    "CustomerOwned",
    "HASHRATE",
    "Interval",
    "LABEL_NAME_MAX",
    "Label",
    "LabelKind",
    "MiningAccount",
    "PENDING_STATUSES",
    "PayoutChange",
    "PayoutChangeStatus",
    "PayoutChangeToken",
    "PayoutDestination",
    "Reward",
    "RewardStatus",
    "RewardStatusChange",
    "ShareLevel",
    "ShareLink",
    "SyncDataset",
    "SyncState",
    "WatcherLink",
    "Worker",
    "WorkerHashrateSample",
    "WorkerLabel",
]
