"""Response parsing: quirks of each endpoint stop here, and a wrong shape is an UnexpectedResponse."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from mining.whitebit.errors import UnexpectedResponse
from mining.whitebit.types import (
    UpstreamAccountHashrate,
    UpstreamMinerInfo,
    UpstreamMiningAccountsPage,
    UpstreamPayoutDestination,
    UpstreamReward,
    UpstreamRewardsPage,
    UpstreamWatcherLink,
    UpstreamWorkerHashrate,
    UpstreamWorkerNamesPage,
)

REWARD = {
    "miningAccountName": "miner123", "payoutDestination": "external_address",
    "payoutTransactionHash": "0e3e", "payoutAddress": "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
    "payoutTime": 1641085200, "rewardCurrency": "BTC", "totalReward": "0.00125", "reward": "0.001",
    "fee": "0.00025", "fppsRate": "0.000125", "hashRate": "100", "date": 1641081600, "status": "pending",
}


def test_reward_full_and_legacy_shapes():
    page = UpstreamRewardsPage.from_api({"offset": 0, "limit": 30, "data": [REWARD]}, limit=None, offset=None)
    r = page.rewards[0]
    assert (page.limit, page.offset) == (30, 0)
    assert r.account == "miner123" and r.status == "pending" and r.currency == "BTC"
    assert r.date_at == datetime(2022, 1, 2, tzinfo=UTC)
    assert r.payout_at == datetime(2022, 1, 2, 1, tzinfo=UTC)
    assert r.total_reward == r.reward + r.fee == Decimal("0.00125")
    legacy_keys = ("miningAccountName", "totalReward", "reward", "fee", "fppsRate", "hashRate", "date")
    legacy = {k: REWARD[k] for k in legacy_keys}
    old = UpstreamReward.from_api(legacy)
    assert old.status is None and old.payout_destination is None and old.payout_at is None and old.currency == "BTC"


def test_hashrate_quirks():
    acc = UpstreamAccountHashrate.from_api(
        {"data": {"account": "a",
                  "hashrate": [{"timestamp": 1709340000, "hashrate": "42.5", "rejectRate": Decimal("0.01")}]}},
        account="a",
    )
    assert acc.points[0].at == datetime.fromtimestamp(1709340000, UTC) and acc.points[0].reject_rate == Decimal("0.01")
    assert UpstreamAccountHashrate.from_api({"data": []}, account="a").points == ()
    assert UpstreamAccountHashrate.from_api({"data": {"account": "a", "hashrate": []}}, account="a").points == ()
    wk_body = {"data": {"hashrates": [{"time": 1709290000, "hashrate": "42.1"}]}}
    wk = UpstreamWorkerHashrate.from_api(wk_body, account="a", worker="w")
    assert wk.points[0].hashrate_hs == Decimal("42.1") and wk.points[0].reject_rate is None
    with pytest.raises(UnexpectedResponse):  # account-hashrate keys on the worker endpoint
        UpstreamWorkerHashrate.from_api({"data": {"hashrates": [{"timestamp": 1, "hashrate": "1"}]}},
                                        account="a", worker="w")


def test_payout_unwrapped_and_wrapped():
    assert UpstreamPayoutDestination.from_api({"payoutDestination": "main_balance", "externalAddress": None}) == \
        UpstreamPayoutDestination("main_balance", None)
    wrapped = {"data": {"payoutDestination": "external_address", "externalAddress": "bc1q"}}
    assert UpstreamPayoutDestination.from_api(wrapped) == UpstreamPayoutDestination("external_address", "bc1q")


def test_miner_info():
    info = UpstreamMinerInfo.from_api({"data": {"fee": "2.5", "workers": {"online": 1, "offline": 2, "low": 3},
                               "stratum": [{"url": "stratum+tcp://pool.whitebit.com:3333", "workersCount": 5}]}})
    assert info.fee_percent == Decimal("2.5")
    assert (info.workers_online, info.workers_offline, info.workers_low) == (1, 2, 3)
    assert info.stratum[0].url.endswith(":3333") and info.stratum[0].workers_count == 5


def test_worker_names_paginated_and_flat():
    body = {"data": {"workers": ["w1", "w2"]}, "limit": 50, "offset": 0}
    page = UpstreamWorkerNamesPage.from_api(body, limit=50, offset=None)
    assert page.workers == ("w1", "w2") and page.limit == 50
    flat = UpstreamWorkerNamesPage.from_api({"data": ["w1"]}, limit=None, offset=None)
    assert flat.workers == ("w1",) and flat.limit == 100


def test_watcher_link_create_and_list_shapes():
    created = UpstreamWatcherLink.from_api(
        {"id": "abc", "link": "https://whitebit.com/mining-pool/watcher-link/abc", "liveUntil": None,
         "createdAt": 1709340000},
        defaults={"accounts": ["a"], "name": "n", "permissions": ["dashboard"]},
    )
    assert created.live_until_at is None and created.accounts == ("a",) and created.permissions == ("dashboard",)
    listed = UpstreamWatcherLink.from_api({"id": "abc", "accounts": ["a"], "name": "n", "link": "l",
                                           "permissions": ["rewards"], "liveUntil": 1709944800,
                                           "createdAt": 1709340000})
    assert listed.live_until_at == datetime.fromtimestamp(1709944800, UTC)


@pytest.mark.parametrize("body", [
    {"data": [{"name": "a"}]},
    {"data": [{"name": 1, "createdAt": 1}]},
    {"data": {"name": "a", "createdAt": 1}},
    {"nodata": []},
    {"data": [{"name": "a", "createdAt": True}]},
])
def test_wrong_shapes_raise_unexpected_response(body):
    with pytest.raises(UnexpectedResponse) as exc:
        UpstreamMiningAccountsPage.from_api(body, limit=None, offset=None)
    assert exc.value.retryable is False


def test_amount_float_is_a_shape_error():
    with pytest.raises(UnexpectedResponse):
        UpstreamReward.from_api({**REWARD, "reward": 0.001})
