"""`rewards`: the daily FPPS rewards of one account or all, newest first, with the payout fields at settle time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mining.whitebit.sandbox.endpoints.common import timestamps
from mining.whitebit.sandbox.fields import Errors, page_field
from mining.whitebit.sandbox.http import Reply, json_reply
from mining.whitebit.sandbox.simulation import DailyReward
from mining.whitebit.sandbox.worker_model import btc_str, hs_str

if TYPE_CHECKING:
    from mining.whitebit.sandbox.app import SandboxApp


def rewards(app: SandboxApp, body: dict[str, Any]) -> Reply:
    errors = Errors()
    account = body.get("account")
    if account is not None and not isinstance(account, str):
        errors.add("account", "The account field must be a string.")
    limit = page_field(body, "limit", errors, default=30, low=1, high=100)
    offset = page_field(body, "offset", errors, default=0, low=0, high=10000)
    errors.raise_if_any()
    start, end = timestamps(app, body, max_window=None, interval=None)
    now = app.data_now()
    names = list(app.fleet.accounts) if account in (None, "") else [account]
    data = []
    for i, reward in enumerate(app.fleet.rewards(names, start, end if end is not None else now, now)):
        if i < offset:
            continue
        if len(data) >= limit:
            break
        data.append(_reward_json(app, reward, now))
    return json_reply(200, {"offset": offset, "limit": limit, "data": data})


def _reward_json(app: SandboxApp, reward: DailyReward, now: int) -> dict[str, Any]:
    status = reward.status(now)
    destination, address = app.state.destination_at(reward.account, min(reward.settle_at, now))
    external = destination == "external_address"
    paid = external and status == "successful"
    return {
        "miningAccountName": reward.account,
        "payoutDestination": destination,
        "payoutTransactionHash": reward.tx_hash if paid else None,
        "payoutAddress": address if external else None,
        "payoutTime": reward.settle_at if paid else None,
        "rewardCurrency": "BTC",
        "totalReward": btc_str(reward.total_sats),
        "reward": btc_str(reward.reward_sats),
        "fee": btc_str(reward.fee_sats),
        "fppsRate": btc_str(reward.fpps_rate_sats_per_ph),
        "hashRate": hs_str(reward.hashrate_hs),
        "date": reward.date,
        "status": status,
    }
