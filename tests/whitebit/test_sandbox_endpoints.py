"""Each of the 11 endpoints: success shapes with their quirks, documented validation errors and limits.

Tests that write (create accounts, links, payout destinations) do so on fresh, uniquely named accounts: the session
sandbox is shared by every test in an xdist worker, and the seeded accounts' data must stay as seeded.
"""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest

from mining.whitebit.sandbox.worker_model import DAY, HOUR

P = "/api/v4/mining"
ADDRESS_KEY_INVALID = "miningPool.validation.payoutDestination.invalidBtcAddress"
ADDRESS_KEY_REQUIRED = "miningPool.validation.payoutDestination.btcAddressRequired"


def validation(response, errors):
    assert response.status_code == 400, response.text
    assert response.json() == {"code": 0, "message": "Validation failed", "errors": errors}


def incorrect_timestamp(response):
    assert response.status_code == 422, response.text
    assert response.json() == {"code": 422, "message": "Incorrect timestamp"}


def new_account(sandbox) -> str:
    name = sandbox.unique_name("acct")
    response = sandbox.post(f"{P}/accounts/create", {"name": name})
    assert response.status_code == 200, response.text
    return name


# ---- accounts ---------------------------------------------------------------------------------------------------


class TestAccounts:
    def test_seeded_accounts_newest_first(self, sandbox_pool):
        listed = []
        offset = 0
        while True:  # other tests create accounts on the shared sandbox, so read every page
            body = sandbox_pool.post(f"{P}/accounts", {"limit": 100, "offset": offset}).json()
            assert (body["limit"], body["offset"]) == (100, offset)
            assert all(set(a) == {"name", "createdAt"} for a in body["data"])
            listed.extend(body["data"])
            if len(body["data"]) < 100:
                break
            offset += 100
        created = [a["createdAt"] for a in listed]
        assert created == sorted(created, reverse=True)
        seeded_names = set(sandbox_pool.seeded_accounts())
        seeded = [a for a in listed if a["name"] in seeded_names]
        assert [a["name"] for a in seeded] == ["acct_004", "acct_003", "acct_002", "acct_001"]
        assert listed[-4:] == seeded  # created before anything made through the API
        epoch = sandbox_pool.server.app.fleet.epoch
        assert all(a["createdAt"] < epoch for a in seeded)

    def test_defaults(self, sandbox_pool):
        body = sandbox_pool.post(f"{P}/accounts", {}).json()
        assert (body["limit"], body["offset"]) == (30, 0)

    def test_name_filter_is_exact(self, sandbox_pool):
        assert sandbox_pool.post(f"{P}/accounts", {"name": "acct_002"}).json()["data"][0]["name"] == "acct_002"
        assert sandbox_pool.post(f"{P}/accounts", {"name": "acct_00"}).json()["data"] == []

    def test_pagination(self, sandbox_pool):
        everything = sandbox_pool.post(f"{P}/accounts", {"limit": 100}).json()["data"]
        page = sandbox_pool.post(f"{P}/accounts", {"limit": 2, "offset": 1}).json()
        assert page["data"] == everything[1:3]
        assert (page["limit"], page["offset"]) == (2, 1)

    @pytest.mark.parametrize(
        ("params", "errors"),
        [
            ({"limit": 0}, {"limit": ["validation.min"]}),
            ({"limit": 101}, {"limit": ["validation.max.integer"]}),
            ({"limit": "ten"}, {"limit": ["validation.integer"]}),
            ({"offset": 10001}, {"offset": ["validation.max"]}),
            ({"offset": -1}, {"offset": ["validation.min"]}),
            ({"offset": 1.5}, {"offset": ["validation.integer"]}),
        ],
    )
    def test_pagination_bounds(self, sandbox_pool, params, errors):
        validation(sandbox_pool.post(f"{P}/accounts", params), errors)

    def test_bounds_inclusive(self, sandbox_pool):
        assert sandbox_pool.post(f"{P}/accounts", {"limit": 100, "offset": 10000}).json()["data"] == []
        assert sandbox_pool.post(f"{P}/accounts", {"limit": 1}).status_code == 200

    def test_create(self, sandbox_pool):
        name = sandbox_pool.unique_name("Acct")
        response = sandbox_pool.post(f"{P}/accounts/create", {"name": name, "referralCode": "REF1"})
        assert response.status_code == 200
        data = response.json()["data"]
        assert data == {"name": name, "createdAt": int(sandbox_pool.frozen_now.timestamp())}
        listed = sandbox_pool.post(f"{P}/accounts", {"name": name}).json()["data"]
        assert listed == [data]

    def test_name_taken(self, sandbox_pool):
        validation(
            sandbox_pool.post(f"{P}/accounts/create", {"name": "acct_001"}),
            {"name": ["The name has already been taken."]},
        )

    @pytest.mark.parametrize(
        ("name", "message"),
        [
            (None, "The name field is required."),
            ("", "The name field is required."),
            ("has-hyphen", "The name format is invalid."),
            ("has space", "The name format is invalid."),
            ("trailing_newline\n", "The name format is invalid."),
            ("ünïcode", "The name format is invalid."),
            ("x" * 256, "The name field must not be greater than 255 characters."),
            (123, "The name field must be a string."),
        ],
    )
    def test_name_rules(self, sandbox_pool, name, message):
        body = {} if name is None else {"name": name}
        validation(sandbox_pool.post(f"{P}/accounts/create", body), {"name": [message]})

    def test_name_of_255_characters_is_fine(self, sandbox_pool):
        name = (sandbox_pool.unique_name("long") + "_" * 255)[:255]
        assert sandbox_pool.post(f"{P}/accounts/create", {"name": name}).status_code == 200

    def test_referral_code_max_length(self, sandbox_pool):
        response = sandbox_pool.post(
            f"{P}/accounts/create", {"name": sandbox_pool.unique_name(), "referralCode": "r" * 51}
        )
        validation(response, {"referralCode": ["The referral code field must not be greater than 50 characters."]})

    def test_account_cap(self):
        from tests.fixtures.sandbox import sandbox_config, start_sandbox

        handle = start_sandbox(sandbox_config(accounts=2, max_accounts=3))
        try:
            assert handle.post(f"{P}/accounts/create", {"name": "third"}).status_code == 200
            validation(
                handle.post(f"{P}/accounts/create", {"name": "fourth"}),
                {"error": ["miningPool.validation.maxAccounts"]},
            )
        finally:
            handle.server.stop()

    def test_new_account_is_empty(self, sandbox_pool):
        name = new_account(sandbox_pool)
        info = sandbox_pool.post(f"{P}/miners/info", {"account": name}).json()["data"]
        assert info["workers"] == {"online": 0, "offline": 0, "low": 0}
        assert [s["workersCount"] for s in info["stratum"]] == [0, 0]
        hashrate = sandbox_pool.post(f"{P}/hashrate", {"account": name}).json()
        assert hashrate == {"data": {"account": name, "hashrate": []}}
        assert sandbox_pool.post(f"{P}/workers/names", {"account": name}).json()["data"]["workers"] == []
        assert sandbox_pool.post(f"{P}/rewards", {"account": name}).json()["data"] == []
        payout = sandbox_pool.post(f"{P}/payout-destination", {"accountName": name}).json()
        assert payout == {"payoutDestination": "main_balance", "externalAddress": None}


# ---- rewards ----------------------------------------------------------------------------------------------------


REWARD_KEYS = {
    "miningAccountName",
    "payoutDestination",
    "payoutTransactionHash",
    "payoutAddress",
    "payoutTime",
    "rewardCurrency",
    "totalReward",
    "reward",
    "fee",
    "fppsRate",
    "hashRate",
    "date",
    "status",
}


class TestRewards:
    def test_shape_and_order(self, sandbox_pool):
        body = sandbox_pool.post(f"{P}/rewards", {"limit": 100}).json()
        assert list(body) == ["offset", "limit", "data"]
        assert (body["offset"], body["limit"]) == (0, 100)
        rows = body["data"]
        assert len(rows) == 4 * 10  # 10 complete days x 4 seeded accounts (created accounts have no rewards)
        assert all(set(r) == REWARD_KEYS for r in rows)
        keys = [(-r["date"], r["miningAccountName"]) for r in rows]
        assert keys == sorted(keys)
        for r in rows:
            assert Decimal(r["reward"]) + Decimal(r["fee"]) == Decimal(r["totalReward"])
            assert r["rewardCurrency"] == "BTC"
            assert r["date"] % DAY == 0

    def test_statuses_age(self, sandbox_pool):
        rows = sandbox_pool.post(f"{P}/rewards", {"limit": 100}).json()["data"]
        now = int(sandbox_pool.frozen_now.timestamp())
        yesterday = now - now % DAY - DAY
        assert {r["status"] for r in rows if r["date"] == yesterday} == {"pending"}
        old = [r for r in rows if r["date"] <= yesterday - 2 * DAY]
        assert {r["status"] for r in old} <= {"successful", "canceled"}
        assert "successful" in {r["status"] for r in old}

    def test_external_address_payouts(self, sandbox_pool):
        rows = sandbox_pool.post(f"{P}/rewards", {"account": "acct_002", "limit": 100}).json()["data"]
        assert rows and all(r["payoutDestination"] == "external_address" for r in rows)
        for r in rows:
            assert r["payoutAddress"].startswith("bc1q")
            if r["status"] == "successful":
                assert len(r["payoutTransactionHash"]) == 64
                int(r["payoutTransactionHash"], 16)
                assert r["payoutTime"] >= r["date"] + 2 * DAY
            else:
                assert r["payoutTransactionHash"] is None and r["payoutTime"] is None

    def test_main_balance_payouts_have_no_chain_fields(self, sandbox_pool):
        rows = sandbox_pool.post(f"{P}/rewards", {"account": "acct_001"}).json()["data"]
        assert rows
        for r in rows:
            assert r["payoutDestination"] == "main_balance"
            assert r["payoutTransactionHash"] is None and r["payoutAddress"] is None and r["payoutTime"] is None

    def test_reward_matches_daily_hashrate(self, sandbox_pool):
        row = sandbox_pool.post(f"{P}/rewards", {"account": "acct_003", "limit": 1}).json()["data"][0]
        day = row["date"]
        points = sandbox_pool.post(
            f"{P}/hashrate", {"account": "acct_003", "interval": "24h", "from": day, "to": day}
        ).json()["data"]["hashrate"]
        assert points[0]["hashrate"] == row["hashRate"]
        gross = Decimal(row["hashRate"]) * Decimal(row["fppsRate"]) / Decimal(10**15)
        assert Decimal(0) <= gross - Decimal(row["totalReward"]) < Decimal("0.00000001")

    def test_account_filter_and_unknown_account(self, sandbox_pool):
        rows = sandbox_pool.post(f"{P}/rewards", {"account": "acct_004"}).json()["data"]
        assert rows and {r["miningAccountName"] for r in rows} == {"acct_004"}
        assert sandbox_pool.post(f"{P}/rewards", {"account": "nobody_here"}).json() == {
            "offset": 0,
            "limit": 30,
            "data": [],
        }

    def test_time_filter_is_inclusive(self, sandbox_pool):
        rows = sandbox_pool.post(f"{P}/rewards", {"limit": 100}).json()["data"]
        day = rows[5]["date"]
        filtered = sandbox_pool.post(f"{P}/rewards", {"from": day, "to": day, "limit": 100}).json()["data"]
        assert filtered == [r for r in rows if r["date"] == day]

    def test_pages_concatenate(self, sandbox_pool):
        everything = sandbox_pool.post(f"{P}/rewards", {"limit": 100}).json()["data"]
        pages = []
        offset = 0
        while True:
            page = sandbox_pool.post(f"{P}/rewards", {"limit": 7, "offset": offset}).json()["data"]
            pages.extend(page)
            if len(page) < 7:
                break
            offset += 7
        assert pages == everything

    @pytest.mark.parametrize(
        ("params", "errors"),
        [
            ({"limit": 101}, {"limit": ["validation.max.integer"]}),
            ({"limit": 0}, {"limit": ["validation.min"]}),
            ({"offset": 10001}, {"offset": ["validation.max"]}),
            ({"limit": "x"}, {"limit": ["validation.integer"]}),
            ({"offset": "x"}, {"offset": ["validation.integer"]}),
        ],
    )
    def test_pagination_bounds(self, sandbox_pool, params, errors):
        validation(sandbox_pool.post(f"{P}/rewards", params), errors)

    @pytest.mark.parametrize(
        "params",
        [
            {"from": 200, "to": 100},
            {"from": -1},
            {"to": "yesterday"},
            {"from": 1.5},
            {"to": 4_000_000_000},
        ],
    )
    def test_incorrect_timestamp(self, sandbox_pool, params):
        incorrect_timestamp(sandbox_pool.post(f"{P}/rewards", params))


# ---- account hashrate -------------------------------------------------------------------------------------------


class TestAccountHashrate:
    def test_default_is_last_14_hours(self, sandbox_pool):
        body = sandbox_pool.post(f"{P}/hashrate", {"account": "acct_001"}).json()
        assert body["data"]["account"] == "acct_001"
        points = body["data"]["hashrate"]
        assert len(points) == 14
        now = int(sandbox_pool.frozen_now.timestamp())
        assert [p["timestamp"] for p in points] == [now - HOUR * k for k in range(14, 0, -1)]
        for p in points:
            assert set(p) == {"timestamp", "hashrate", "rejectRate"}
            assert isinstance(p["hashrate"], str) and Decimal(p["hashrate"]) >= 0
            assert isinstance(p["rejectRate"], int | float) and 0 <= p["rejectRate"] < 1

    @pytest.mark.parametrize(("interval", "step"), [("5m", 300), ("1h", HOUR), ("24h", DAY)])
    def test_intervals(self, sandbox_pool, interval, step):
        points = sandbox_pool.post(f"{P}/hashrate", {"account": "acct_002", "interval": interval}).json()["data"][
            "hashrate"
        ]
        assert len(points) == (10 if interval == "24h" else 14)  # the default 14 points, capped by 10 days of history
        stamps = [p["timestamp"] for p in points]
        assert all(b - a == step for a, b in zip(stamps, stamps[1:], strict=False))

    def test_hour_is_mean_of_its_5_minute_points_over_http(self, sandbox_pool):
        hour = int(sandbox_pool.frozen_now.timestamp()) - 5 * HOUR
        body = {"account": "acct_003", "from": hour, "to": hour + HOUR - 1}
        fives = sandbox_pool.post(f"{P}/hashrate", {**body, "interval": "5m"}).json()["data"]["hashrate"]
        hours = sandbox_pool.post(f"{P}/hashrate", {**body, "interval": "1h"}).json()["data"]["hashrate"]
        assert len(fives) == 12 and len(hours) == 1
        assert sum(Decimal(p["hashrate"]) for p in fives) / 12 == Decimal(hours[0]["hashrate"])

    def test_account_is_sum_of_workers_over_http(self, sandbox_pool):
        hour = int(sandbox_pool.frozen_now.timestamp()) - 30 * HOUR
        window = {"interval": "1h", "from": hour, "to": hour}
        account = sandbox_pool.post(f"{P}/hashrate", {"account": "acct_004", **window}).json()["data"]["hashrate"]
        total = Decimal(0)
        for worker in sandbox_pool.server.app.fleet.accounts["acct_004"].workers:
            points = sandbox_pool.post(
                f"{P}/workers/hashrate", {"account": "acct_004", "worker": worker, **window}
            ).json()["data"]["hashrates"]
            total += Decimal(points[0]["hashrate"])
        assert Decimal(account[0]["hashrate"]) == total

    def test_unknown_account(self, sandbox_pool):
        validation(sandbox_pool.post(f"{P}/hashrate", {"account": "ghost"}), {"account": ["Account not found"]})

    def test_account_required(self, sandbox_pool):
        validation(sandbox_pool.post(f"{P}/hashrate", {}), {"account": ["The account field is required."]})

    def test_invalid_interval(self, sandbox_pool):
        validation(
            sandbox_pool.post(f"{P}/hashrate", {"account": "acct_001", "interval": "1d"}),
            {"interval": ["The selected interval is invalid."]},
        )

    @pytest.mark.parametrize(("interval", "max_days"), [("5m", 3), ("1h", 7), ("24h", 30)])
    def test_max_window(self, sandbox_pool, interval, max_days):
        to = int(sandbox_pool.frozen_now.timestamp())
        ok = {"account": "acct_001", "interval": interval, "from": to - max_days * DAY, "to": to}
        assert sandbox_pool.post(f"{P}/hashrate", ok).status_code == 200
        incorrect_timestamp(sandbox_pool.post(f"{P}/hashrate", {**ok, "from": ok["from"] - 1}))

    @pytest.mark.parametrize("params", [{"from": 300, "to": 200}, {"from": -5}, {"to": "now"}])
    def test_incorrect_timestamp(self, sandbox_pool, params):
        incorrect_timestamp(sandbox_pool.post(f"{P}/hashrate", {"account": "acct_001", **params}))

    def test_before_history_is_empty(self, sandbox_pool):
        epoch = sandbox_pool.server.app.fleet.epoch
        body = {"account": "acct_001", "from": epoch - 2 * DAY, "to": epoch - DAY}
        assert sandbox_pool.post(f"{P}/hashrate", body).json()["data"]["hashrate"] == []


# ---- payout destination -----------------------------------------------------------------------------------------

VALID_ADDRESSES = {
    "p2pkh": "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
    "p2sh": "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
    "p2wpkh": "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
    "p2wpkh_upper": "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
    "p2wsh": "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
    "p2tr": "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
}
INVALID_ADDRESSES = {
    "p2pkh_bad_checksum": "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",
    "p2sh_bad_checksum": "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz",
    "p2wpkh_bad_checksum": "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
    "p2tr_with_bech32_checksum": "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
    "v0_with_bech32m_checksum": "bc1qfysxzmfq2phhyarvv9hxgtjgfazycwjypqqqfm706a",
    "testnet": "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",
    "mixed_case": "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3t4",
    "v0_wrong_length": "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",
    "litecoin_legacy": "LVg2kJoFNg45Nbpy53h7Fe1wKyeXVRhMH9",
    "too_long": "bc1q" + "q" * 100,
    "not_a_string": 12345,
}


class TestPayoutDestination:
    def test_seeded_destinations(self, sandbox_pool):
        main = sandbox_pool.post(f"{P}/payout-destination", {"accountName": "acct_001"})
        assert main.json() == {"payoutDestination": "main_balance", "externalAddress": None}
        external = sandbox_pool.post(f"{P}/payout-destination", {"accountName": "acct_002"}).json()
        assert external["payoutDestination"] == "external_address"
        assert external["externalAddress"].startswith("bc1q")

    def test_unknown_account(self, sandbox_pool):
        validation(
            sandbox_pool.post(f"{P}/payout-destination", {"accountName": "ghost"}),
            {"user": ["Mining account not found."]},
        )
        validation(
            sandbox_pool.post(f"{P}/payout-destination/edit", {"accountName": "ghost", "destination": "main_balance"}),
            {"user": ["Mining account not found."]},
        )

    def test_account_name_is_the_field(self, sandbox_pool):
        validation(
            sandbox_pool.post(f"{P}/payout-destination", {"account": "acct_001"}),
            {"accountName": ["The account name field is required."]},
        )

    @pytest.mark.parametrize("kind", sorted(VALID_ADDRESSES))
    def test_valid_addresses(self, sandbox_pool, kind):
        name = new_account(sandbox_pool)
        address = VALID_ADDRESSES[kind]
        response = sandbox_pool.post(
            f"{P}/payout-destination/edit",
            {"accountName": name, "destination": "external_address", "address": address},
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"payoutDestination": "external_address", "externalAddress": address}
        assert sandbox_pool.post(f"{P}/payout-destination", {"accountName": name}).json() == response.json()

    @pytest.mark.parametrize("kind", sorted(INVALID_ADDRESSES))
    def test_invalid_addresses(self, sandbox_pool, kind):
        name = new_account(sandbox_pool)
        response = sandbox_pool.post(
            f"{P}/payout-destination/edit",
            {"accountName": name, "destination": "external_address", "address": INVALID_ADDRESSES[kind]},
        )
        validation(response, {"address": [ADDRESS_KEY_INVALID]})

    @pytest.mark.parametrize("body", [{}, {"address": ""}, {"address": None}])
    def test_address_required_for_external(self, sandbox_pool, body):
        name = new_account(sandbox_pool)
        response = sandbox_pool.post(
            f"{P}/payout-destination/edit", {"accountName": name, "destination": "external_address", **body}
        )
        validation(response, {"address": [ADDRESS_KEY_REQUIRED]})

    def test_main_balance_ignores_address(self, sandbox_pool):
        name = new_account(sandbox_pool)
        response = sandbox_pool.post(
            f"{P}/payout-destination/edit",
            {"accountName": name, "destination": "main_balance", "address": "not even an address"},
        )
        assert response.json() == {"payoutDestination": "main_balance", "externalAddress": None}

    def test_invalid_destination(self, sandbox_pool):
        validation(
            sandbox_pool.post(f"{P}/payout-destination/edit", {"accountName": "acct_001", "destination": "moon"}),
            {"destination": ["The selected destination is invalid."]},
        )


# ---- miners and workers -----------------------------------------------------------------------------------------


class TestMinersAndWorkers:
    def test_miner_info(self, sandbox_pool):
        fleet = sandbox_pool.server.app.fleet
        now = int(sandbox_pool.frozen_now.timestamp())
        for name, seeded in fleet.accounts.items():
            data = sandbox_pool.post(f"{P}/miners/info", {"account": name}).json()["data"]
            assert data["fee"] == seeded.fee_percent
            expected = {"online": 0, "offline": 0, "low": 0}
            for worker in seeded.workers:
                expected[fleet.worker_status(name, worker, now)] += 1
            assert data["workers"] == expected
            assert [s["url"] for s in data["stratum"]] == [
                "stratum+tcp://pool.whitebit.com:3333",
                "stratum+tcp://pool.whitebit.com:3334",
            ]
            assert sum(s["workersCount"] for s in data["stratum"]) == 5

    def test_unknown_account_errors(self, sandbox_pool):
        for path in ("miners/info", "workers/names", "watcher-links/list"):
            validation(
                sandbox_pool.post(f"{P}/{path}", {"account": "unknown_miner"}),
                {"user": ["Mining pool account 'unknown_miner' not found"]},
            )
        validation(
            sandbox_pool.post(f"{P}/workers/hashrate", {"account": "unknown_miner", "worker": "w"}),
            {"user": ["Mining pool account 'unknown_miner' not found"]},
        )

    def test_worker_names_online_ascending(self, sandbox_pool):
        fleet = sandbox_pool.server.app.fleet
        now = int(sandbox_pool.frozen_now.timestamp())
        for name, seeded in fleet.accounts.items():
            body = sandbox_pool.post(f"{P}/workers/names", {"account": name}).json()
            expected = [w for w in seeded.workers if fleet.worker_status(name, w, now) != "offline"]
            assert body == {"data": {"workers": sorted(expected)}, "limit": 100, "offset": 0}

    def test_worker_names_pagination(self, sandbox_pool):
        all_names = sandbox_pool.post(f"{P}/workers/names", {"account": "acct_001"}).json()["data"]["workers"]
        page = sandbox_pool.post(f"{P}/workers/names", {"account": "acct_001", "limit": 2, "offset": 1}).json()
        assert page["data"]["workers"] == all_names[1:3]
        assert (page["limit"], page["offset"]) == (2, 1)
        validation(
            sandbox_pool.post(f"{P}/workers/names", {"account": "acct_001", "limit": 101}),
            {"limit": ["validation.max.integer"]},
        )

    def test_worker_hashrate_shape(self, sandbox_pool):
        body = sandbox_pool.post(f"{P}/workers/hashrate", {"account": "acct_001", "worker": "worker_001"}).json()
        points = body["data"]["hashrates"]
        assert len(points) == 14
        assert all(set(p) == {"time", "hashrate"} for p in points)

    def test_unknown_worker_is_empty(self, sandbox_pool):
        body = sandbox_pool.post(f"{P}/workers/hashrate", {"account": "acct_001", "worker": "nope"}).json()
        assert body == {"data": {"hashrates": []}}

    def test_worker_required(self, sandbox_pool):
        validation(
            sandbox_pool.post(f"{P}/workers/hashrate", {"account": "acct_001"}),
            {"worker": ["The worker field is required."]},
        )

    def test_worker_window_caps(self, sandbox_pool):
        to = int(sandbox_pool.frozen_now.timestamp())
        body = {"account": "acct_001", "worker": "worker_002", "interval": "24h", "to": to}
        assert sandbox_pool.post(f"{P}/workers/hashrate", {**body, "from": to - 14 * DAY}).status_code == 200
        incorrect_timestamp(sandbox_pool.post(f"{P}/workers/hashrate", {**body, "from": to - 15 * DAY}))
        incorrect_timestamp(
            sandbox_pool.post(f"{P}/workers/hashrate", {**body, "from": to - DAY, "to": int(time.time()) + 600})
        )


# ---- watcher links ----------------------------------------------------------------------------------------------


class TestWatcherLinks:
    def create(self, sandbox, account, **overrides):
        body = {
            "accounts": [account],
            "name": "monitoring_link",
            "permissions": ["dashboard", "workers"],
            "liveUntil": "7d",
            **overrides,
        }
        return sandbox.post(f"{P}/watcher-links/create", body)

    def test_create_is_201_and_listed(self, sandbox_pool):
        account = new_account(sandbox_pool)
        response = self.create(sandbox_pool, account)
        assert response.status_code == 201
        data = response.json()["data"]
        assert set(data) == {"id", "link", "liveUntil", "createdAt"}
        assert data["link"] == f"https://whitebit.com/mining-pool/watcher-link/{data['id']}"
        assert data["liveUntil"] == data["createdAt"] + 7 * DAY
        listed = sandbox_pool.post(f"{P}/watcher-links/list", {"account": account}).json()["data"]
        assert listed == [
            {
                "id": data["id"],
                "accounts": [account],
                "name": "monitoring_link",
                "link": data["link"],
                "permissions": ["dashboard", "workers"],
                "liveUntil": data["liveUntil"],
                "createdAt": data["createdAt"],
            }
        ]

    @pytest.mark.parametrize(("live_until", "seconds"), [("1h", HOUR), ("24h", DAY), ("always", None)])
    def test_lifetimes(self, sandbox_pool, live_until, seconds):
        data = self.create(sandbox_pool, new_account(sandbox_pool), liveUntil=live_until).json()["data"]
        assert data["liveUntil"] == (None if seconds is None else data["createdAt"] + seconds)

    def test_cap_of_three_active_links(self, sandbox_pool):
        account = new_account(sandbox_pool)
        for _ in range(3):
            assert self.create(sandbox_pool, account).status_code == 201
        validation(self.create(sandbox_pool, account), {"user": ["Limit exceeded"]})

    def test_expired_links_are_not_listed_and_free_the_cap(self, sandbox_clean):
        account = new_account(sandbox_clean)
        for _ in range(3):
            assert self.create(sandbox_clean, account, liveUntil="1h").status_code == 201
        sandbox_clean.set_clock(sandbox_clean.frozen_now + timedelta(hours=1))
        assert sandbox_clean.post(f"{P}/watcher-links/list", {"account": account}).json()["data"] == []
        assert self.create(sandbox_clean, account).status_code == 201

    def test_multi_account_link(self, sandbox_pool):
        first, second = new_account(sandbox_pool), new_account(sandbox_pool)
        assert self.create(sandbox_pool, first, accounts=[first, second]).status_code == 201
        listed = sandbox_pool.post(f"{P}/watcher-links/list", {"account": second}).json()["data"]
        assert listed[0]["accounts"] == [first, second]

    def test_unknown_account_in_accounts(self, sandbox_pool):
        validation(self.create(sandbox_pool, "ghost_acct"), {"user": ["Mining pool account 'ghost_acct' not found"]})

    @pytest.mark.parametrize(
        ("overrides", "errors"),
        [
            ({"name": "bad-name"}, {"name": ["The name format is invalid."]}),
            ({"name": ""}, {"name": ["The name field is required."]}),
            ({"permissions": []}, {"permissions": ["The permissions field must have at least 1 items."]}),
            (
                {"permissions": ["dashboard", "rewards", "workers", "dashboard"]},
                {"permissions": ["The permissions field must not have more than 3 items."]},
            ),
            ({"permissions": ["admin"]}, {"permissions.0": ["The selected permissions.0 is invalid."]}),
            ({"permissions": "dashboard"}, {"permissions": ["The permissions field must be an array."]}),
            ({"liveUntil": "30d"}, {"liveUntil": ["The selected live until is invalid."]}),
            ({"accounts": []}, {"accounts": ["The accounts field must have at least 1 items."]}),
        ],
    )
    def test_validation(self, sandbox_pool, overrides, errors):
        validation(self.create(sandbox_pool, "acct_001", **overrides), errors)

    def test_all_three_permissions(self, sandbox_pool):
        response = self.create(sandbox_pool, new_account(sandbox_pool), permissions=["dashboard", "rewards", "workers"])
        assert response.status_code == 201
