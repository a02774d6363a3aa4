"""The 11 mining endpoints of the sandbox pool, one module per group, routed by path.

Each handler takes the app and the authenticated JSON body and answers a `Reply` (or raises `ApiError` with the
pool's error); `ROUTES` is the one table of paths the app serves and faults may target.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mining.whitebit.sandbox.endpoints import accounts, hashrate, miners, payout, rewards, watcher_links
from mining.whitebit.sandbox.http import Reply

if TYPE_CHECKING:
    from mining.whitebit.sandbox.app import SandboxApp

Handler = Callable[["SandboxApp", dict[str, Any]], Reply]

PREFIX = "/api/v4/mining"
P_ACCOUNTS_CREATE = f"{PREFIX}/accounts/create"
P_ACCOUNTS = f"{PREFIX}/accounts"
P_REWARDS = f"{PREFIX}/rewards"
P_HASHRATE = f"{PREFIX}/hashrate"
P_PAYOUT = f"{PREFIX}/payout-destination"
P_PAYOUT_EDIT = f"{PREFIX}/payout-destination/edit"
P_MINER_INFO = f"{PREFIX}/miners/info"
P_WORKER_NAMES = f"{PREFIX}/workers/names"
P_WORKER_HASHRATE = f"{PREFIX}/workers/hashrate"
P_WATCHER_CREATE = f"{PREFIX}/watcher-links/create"
P_WATCHER_LIST = f"{PREFIX}/watcher-links/list"

ROUTES: dict[str, Handler] = {
    P_ACCOUNTS_CREATE: accounts.accounts_create,
    P_ACCOUNTS: accounts.accounts_list,
    P_REWARDS: rewards.rewards,
    P_HASHRATE: hashrate.account_hashrate,
    P_PAYOUT: payout.payout_get,
    P_PAYOUT_EDIT: payout.payout_edit,
    P_MINER_INFO: miners.miner_info,
    P_WORKER_NAMES: miners.worker_names,
    P_WORKER_HASHRATE: hashrate.worker_hashrate,
    P_WATCHER_CREATE: watcher_links.watcher_create,
    P_WATCHER_LIST: watcher_links.watcher_list,
}
ENDPOINTS = tuple(ROUTES)
