"""The real client against the live sandbox pool over HTTP: every endpoint, every documented error, every fault.

No transport is mocked: requests are signed, sent over loopback, verified and answered by the sandbox, so what passes
here is the code path production runs. The session sandbox is shared by the tests of one xdist worker, so anything
created here gets a unique name, and faults are cleared after each test (`sandbox_clean`).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from mining.whitebit.amounts import btc_to_sats
from mining.whitebit.client import MAX_OFFSET, Paths, WhiteBitClient
from mining.whitebit.errors import (
    AuthFailed,
    InvalidPayload,
    MalformedReply,
    RateLimited,
    TimestampRejected,
    UnexpectedResponse,
    UpstreamUnavailable,
    ValidationFailed,
    error_from_response,
)
from mining.whitebit.ratelimit import UnlimitedBudget
from mining.whitebit.types import REWARD_STATUSES

VALID_BECH32 = "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"


def make_client(sandbox, *, api_key: str | None = None, api_secret: str | None = None, **kw) -> WhiteBitClient:
    """Fast backoff so retry tests take milliseconds; everything else as in production."""
    options = {"backoff_base_s": 0.01, "backoff_cap_s": 0.02, "timeout_s": 5.0, "max_retries": 4, **kw}
    return WhiteBitClient(sandbox.base_url, api_key or sandbox.api_key, api_secret or sandbox.api_secret, **options)


@pytest.fixture
def sandbox(sandbox_clean):
    return sandbox_clean


@pytest.fixture
def client(sandbox):
    c = make_client(sandbox)
    yield c
    c.close()


@pytest.fixture
def seeded(sandbox) -> str:
    return sandbox.seeded_accounts()[0]


@pytest.fixture
def fresh_account(client, sandbox) -> str:
    return client.account_create(name=sandbox.unique_name("acct")).name


# ------------------------------------------------------------------------------------------------ accounts


def test_account_create_and_list(client, sandbox):
    name = sandbox.unique_name("new")
    created = client.account_create(name=name, referral_code="REF123")
    assert created.name == name and created.created_at.tzinfo is not None
    page = client.accounts_list(name=name)
    assert page.accounts == (created,) and (page.limit, page.offset) == (30, 0)
    assert client.accounts_list(name=sandbox.unique_name("nobody")).accounts == ()


def test_account_create_name_taken_and_bad_format_are_not_retried(client, sandbox, seeded):
    with pytest.raises(ValidationFailed) as exc:
        client.account_create(name=seeded)
    assert exc.value.status == 400 and exc.value.code == 0 and exc.value.is_name_taken
    assert not exc.value.retryable and "already taken" in exc.value.user_message
    with pytest.raises(ValidationFailed) as exc:
        client.account_create(name="has-hyphen and space")
    assert "name" in exc.value.field_errors
    assert client.stats["requests"] == 2 and client.stats.get("retries") == 0


def test_account_create_after_a_timed_out_attempt_returns_the_account_it_made(sandbox):
    # The first attempt hangs past the client timeout but the pool still creates the account; the retry (sent after
    # that) is told the name is taken, and the client recognises its own earlier write.
    sandbox.fault(Paths.ACCOUNT_CREATE, "hang", count=1, hang_s=0.3)
    c = make_client(sandbox, timeout_s=0.15, sleep=lambda _s: time.sleep(0.4))
    name = sandbox.unique_name("slow")
    created = c.account_create(name=name)
    assert created.name == name
    assert c.stats["timeouts"] == 1 and c.stats["retries"] == 1
    assert c.accounts_list(name=name).accounts == (created,)


def test_accounts_list_validation_and_iteration(client, sandbox):
    with pytest.raises(ValidationFailed) as exc:
        client.accounts_list(limit=101)
    assert "limit" in exc.value.field_errors
    with pytest.raises(ValidationFailed) as exc:
        client.accounts_list(offset=MAX_OFFSET + 1)
    assert "offset" in exc.value.field_errors
    listed = list(client.accounts_iter(page_size=2))
    names = [a.name for a in listed]
    assert len(names) == len(set(names))
    assert set(sandbox.seeded_accounts()) <= set(names)
    assert [a.created_at for a in listed] == sorted((a.created_at for a in listed), reverse=True)


# ------------------------------------------------------------------------------------------------ rewards


def test_rewards_typed_and_exact(client, seeded):
    page = client.rewards_list(account=seeded, limit=100)
    assert page.rewards and (page.limit, page.offset) == (100, 0)
    dates = [r.date_at for r in page.rewards]
    assert dates == sorted(dates, reverse=True)
    for r in page.rewards:
        assert r.account == seeded and r.currency == "BTC" and r.status in REWARD_STATUSES
        assert r.date_at.tzinfo == UTC and r.date_at.time() == datetime.min.time()
        assert all(isinstance(v, Decimal) for v in (r.total_reward, r.reward, r.fee, r.fpps_rate, r.hashrate_hs))
        assert btc_to_sats(r.total_reward) == btc_to_sats(r.reward) + btc_to_sats(r.fee)
        if r.payout_destination == "main_balance":
            assert r.payout_address is None and r.payout_tx_hash is None


def test_rewards_unknown_account_is_empty_not_an_error(client, sandbox):
    assert client.rewards_list(account=sandbox.unique_name("ghost")).rewards == ()


@pytest.mark.parametrize(("kw", "field"), [({"limit": 101}, "limit"), ({"limit": 0}, "limit"),
                                           ({"offset": MAX_OFFSET + 1}, "offset")])
def test_rewards_pagination_validation(client, kw, field):
    with pytest.raises(ValidationFailed) as exc:
        client.rewards_list(**kw)
    assert field in exc.value.field_errors and not exc.value.is_account_not_found
    assert exc.value.user_message.startswith("The page")
    assert client.stats["requests"] == 1


def test_rewards_timestamp_rejected(client, sandbox):
    now = datetime.now(UTC)
    with pytest.raises(TimestampRejected) as exc:
        client.rewards_list(from_at=now - timedelta(days=1), to_at=now - timedelta(days=2))
    assert exc.value.status == 422 and exc.value.code == 422 and not exc.value.retryable
    with pytest.raises(TimestampRejected):
        client.rewards_list(to_at=now + timedelta(days=2))
    assert client.stats["requests"] == 2


def test_rewards_iter_walks_every_page(client, seeded):
    everything = client.rewards_list(limit=100).rewards
    assert 10 < len(everything) < 100  # all seeded accounts' rewards fit one page: the reference answer
    walked = list(client.rewards_iter(account=None, page_size=3))
    assert walked == list(everything)
    one = list(client.rewards_iter(account=seeded, page_size=4))
    assert one == [r for r in everything if r.account == seeded]


def test_rewards_iter_narrows_the_window_past_the_offset_cap(client):
    everything = list(client.rewards_list(limit=100).rewards)
    before = client.stats.get(f"requests:{Paths.REWARDS}")
    # Several accounts share each date, so every narrowed window re-reads the boundary date: the dedupe must hold.
    walked = list(client.rewards_iter(account=None, page_size=3, offset_cap=6))
    assert walked == everything
    assert len({r.key for r in walked}) == len(walked)
    pages = client.stats.get(f"requests:{Paths.REWARDS}") - before
    assert pages > -(-len(everything) // 3)  # more pages than plain paging: the windows overlapped at boundaries


def test_rewards_iter_within_a_time_window(client):
    everything = client.rewards_list(limit=100).rewards
    newest = everything[0].date_at
    from_at, to_at = newest - timedelta(days=4), newest - timedelta(days=1)
    walked = list(client.rewards_iter(account=None, from_at=from_at, to_at=to_at, page_size=2, offset_cap=4))
    assert walked == [r for r in everything if from_at <= r.date_at <= to_at]


def test_rewards_iter_refuses_to_loop_when_one_date_exceeds_the_cap(client):
    # Four accounts share the newest date; with one reward per page and no offset, no window can get past it.
    with pytest.raises(UnexpectedResponse):
        list(client.rewards_iter(account=None, page_size=1, offset_cap=0))


# ------------------------------------------------------------------------------------------------ hashrate


@pytest.mark.parametrize("interval", ["5m", "1h", "24h"])
def test_account_hashrate(client, seeded, interval):
    result = client.account_hashrate(account=seeded, interval=interval)
    # The default is the last 14 points; the sandbox's 10 days of history hold only 10 daily ones.
    assert result.account == seeded and len(result.points) == (10 if interval == "24h" else 14)
    step = {"5m": 300, "1h": 3600, "24h": 86400}[interval]
    assert all((b.at - a.at).total_seconds() == step for a, b in zip(result.points, result.points[1:], strict=False))
    for p in result.points:
        assert p.at.tzinfo == UTC and isinstance(p.hashrate_hs, Decimal) and p.hashrate_hs >= 0
        assert isinstance(p.reject_rate, Decimal) and 0 <= p.reject_rate < 1
        assert p.reject_rate == p.reject_rate.quantize(Decimal("0.0001"))  # exact, not a float's expansion


def test_account_hashrate_window_and_errors(client, seeded, sandbox):
    end = sandbox.frozen_now
    result = client.account_hashrate(account=seeded, interval="1h", from_at=end - timedelta(hours=5), to_at=end)
    assert result.points and all(end - timedelta(hours=5) <= p.at <= end for p in result.points)
    with pytest.raises(ValidationFailed) as exc:
        client.account_hashrate(account=sandbox.unique_name("ghost"))
    assert exc.value.is_account_not_found and "account" in exc.value.field_errors
    with pytest.raises(TimestampRejected):  # 5-minute points over more than 3 days
        client.account_hashrate(account=seeded, interval="5m", from_at=end - timedelta(days=4), to_at=end)
    with pytest.raises(ValidationFailed) as exc:
        client.account_hashrate(account=seeded, interval="2h")  # type: ignore[arg-type]
    assert "interval" in exc.value.field_errors


def test_worker_hashrate_uses_its_own_keys(client, seeded, sandbox):
    result = client.worker_hashrate(account=seeded, worker="worker_001", interval="1h")
    assert result.account == seeded and result.worker == "worker_001" and len(result.points) == 14
    assert all(p.reject_rate is None and isinstance(p.hashrate_hs, Decimal) for p in result.points)
    assert client.worker_hashrate(account=seeded, worker="no_such_worker").points == ()
    with pytest.raises(ValidationFailed) as exc:
        client.worker_hashrate(account=sandbox.unique_name("ghost"), worker="worker_001")
    assert exc.value.is_account_not_found and "user" in exc.value.field_errors


# ------------------------------------------------------------------------------------------------ miners, workers


def test_miner_info(client, seeded, fresh_account):
    info = client.miner_info(account=seeded)
    assert isinstance(info.fee_percent, Decimal) and info.fee_percent > 0
    total = info.workers_online + info.workers_offline + info.workers_low
    assert total == 5 and sum(s.workers_count for s in info.stratum) == 5
    assert all(s.url.startswith("stratum+tcp://") for s in info.stratum)
    empty = client.miner_info(account=fresh_account)
    assert (empty.workers_online, empty.workers_offline, empty.workers_low) == (0, 0, 0)


def test_miner_info_unknown_account(client, sandbox):
    with pytest.raises(ValidationFailed) as exc:
        client.miner_info(account=sandbox.unique_name("ghost"))
    assert exc.value.is_account_not_found
    assert "does not know this mining account" in exc.value.user_message


def test_worker_names_paging(client, seeded, sandbox):
    page = client.worker_names(account=seeded)
    assert page.workers == tuple(sorted(page.workers)) and page.limit == 100 and page.offset == 0
    assert client.worker_names_all(account=seeded, page_size=2) == page.workers
    assert client.worker_names(account=seeded, limit=2, offset=1).workers == page.workers[1:3]
    with pytest.raises(ValidationFailed) as exc:
        client.worker_names(account=seeded, offset=MAX_OFFSET + 1)
    assert "offset" in exc.value.field_errors
    with pytest.raises(ValidationFailed) as exc:
        client.worker_names(account=sandbox.unique_name("ghost"))
    assert exc.value.is_account_not_found


# ------------------------------------------------------------------------------------------------ payout destination


def test_payout_destination_round_trip(client, fresh_account):
    assert client.payout_destination_get(account=fresh_account) == client.payout_destination_get(account=fresh_account)
    initial = client.payout_destination_get(account=fresh_account)
    assert initial.destination == "main_balance" and initial.address is None
    ext = client.payout_destination_set(account=fresh_account, destination="external_address", address=VALID_BECH32)
    assert (ext.destination, ext.address) == ("external_address", VALID_BECH32)
    assert client.payout_destination_get(account=fresh_account) == ext
    back = client.payout_destination_set(account=fresh_account, destination="main_balance", address=VALID_BECH32)
    assert (back.destination, back.address) == ("main_balance", None)


@pytest.mark.parametrize(("address", "key"), [
    ("bc1qnotavalidaddress", "invalidBtcAddress"),
    ("0x52908400098527886E0F7030069857D2E4169EE7", "invalidBtcAddress"),
    (None, "btcAddressRequired"),
    ("", "btcAddressRequired"),
])
def test_payout_destination_bad_address(client, fresh_account, address, key):
    with pytest.raises(ValidationFailed) as exc:
        client.payout_destination_set(account=fresh_account, destination="external_address", address=address)
    assert any(key in m for m in exc.value.field_errors["address"])
    assert "Bitcoin address" in exc.value.user_message
    assert client.payout_destination_get(account=fresh_account).destination == "main_balance"  # nothing changed


def test_payout_destination_unknown_account(client, sandbox):
    for call in (lambda a: client.payout_destination_get(account=a),
                 lambda a: client.payout_destination_set(account=a, destination="main_balance")):
        with pytest.raises(ValidationFailed) as exc:
            call(sandbox.unique_name("ghost"))
        assert exc.value.is_account_not_found and "user" in exc.value.field_errors


# ------------------------------------------------------------------------------------------------ watcher links


def test_watcher_links_create_list_and_cap(client, fresh_account, sandbox):
    link = client.watcher_link_create(accounts=[fresh_account], name="monitoring_1",
                                      permissions=["dashboard", "workers"], live_until="7d")
    assert link.link.endswith(link.id) and link.accounts == (fresh_account,)
    assert link.name == "monitoring_1" and link.permissions == ("dashboard", "workers")
    assert link.live_until_at - link.created_at == timedelta(days=7)
    forever = client.watcher_link_create(accounts=[fresh_account], name="forever", permissions=["rewards"],
                                         live_until="always")
    assert forever.live_until_at is None
    client.watcher_link_create(accounts=[fresh_account], name="third", permissions=["rewards"], live_until="1h")
    listed = client.watcher_links_list(account=fresh_account)
    assert {li.id for li in listed} >= {link.id, forever.id} and len(listed) == 3
    assert next(li for li in listed if li.id == link.id) == link
    with pytest.raises(ValidationFailed) as exc:
        client.watcher_link_create(accounts=[fresh_account], name="fourth", permissions=["rewards"], live_until="1h")
    assert exc.value.is_limit_exceeded and "watcher links" in exc.value.user_message
    assert client.stats.get("status:201") == 3


def test_watcher_link_validation(client, fresh_account, sandbox):
    with pytest.raises(ValidationFailed) as exc:
        client.watcher_link_create(accounts=[fresh_account], name="bad name!", permissions=["rewards"],
                                   live_until="1h")
    assert "name" in exc.value.field_errors
    with pytest.raises(ValidationFailed) as exc:
        client.watcher_link_create(accounts=[sandbox.unique_name("ghost")], name="x", permissions=["rewards"],
                                   live_until="1h")
    assert exc.value.is_account_not_found
    with pytest.raises(ValidationFailed) as exc:
        client.watcher_links_list(account=sandbox.unique_name("ghost"))
    assert exc.value.is_account_not_found
    with pytest.raises(TypeError):
        client.watcher_link_create(accounts=fresh_account, name="x", permissions=["rewards"], live_until="1h")
    assert client.watcher_links_list(account=fresh_account) == ()


# ------------------------------------------------------------------------------------------------ auth


def test_wrong_key_is_auth_failed_and_not_retried(sandbox):
    c = make_client(sandbox, api_key="not-a-key")
    with pytest.raises(AuthFailed) as exc:
        c.accounts_list()
    assert exc.value.status == 401 and exc.value.code == 2 and not exc.value.retryable
    assert "enable it (and the Mining Pool permission)" in exc.value.user_message
    assert c.stats["requests"] == 1 and c.stats.get("retries") == 0


def test_wrong_secret_is_auth_failed(sandbox):
    c = make_client(sandbox, api_secret="wrong-secret")
    with pytest.raises(AuthFailed) as exc:
        c.miner_info(account="acct_001")
    assert exc.value.status == 401 and exc.value.code == 10 and "API secret" in exc.value.user_message
    assert c.stats["requests"] == 1


def test_protocol_errors_from_the_pool_classify(sandbox):
    """Errors the client never causes itself, produced by hand, through the same classifier."""
    resp = sandbox.post(Paths.ACCOUNTS, {}, raw_body=b'{"request":"/api/v4/mining/accounts"}')
    assert type(error_from_response(resp.status_code, resp.json())) is InvalidPayload
    resp = sandbox.post(Paths.ACCOUNTS, {}, headers={"X-TXC-PAYLOAD": None})
    err = error_from_response(resp.status_code, resp.json())
    assert resp.status_code == 400 and not err.retryable


def test_nonce_replay_is_rate_limited_and_retried_with_fresh_nonces(sandbox):
    class FixedThenFresh:
        """Hands out one nonce twice (a replay), then real ones."""

        def __init__(self) -> None:
            self.calls = 0
            self.fixed = int(time.time() * 1000)

        def next_nonce(self, api_key: str) -> int:
            self.calls += 1
            return self.fixed if self.calls <= 2 else self.fixed + self.calls

    c = make_client(sandbox, nonces=FixedThenFresh())
    c.accounts_list(limit=1)
    c.accounts_list(limit=1)  # first attempt replays the nonce: 429 JSON, then a retry with a new one
    assert c.stats["rate_limited"] == 1 and c.stats["retries"] == 1

    class Fixed:
        def __init__(self) -> None:
            self.nonce = int(time.time() * 1000)

        def next_nonce(self, api_key: str) -> int:
            return self.nonce

    c2 = make_client(sandbox, nonces=Fixed(), max_retries=1)
    c2.accounts_list(limit=1)
    with pytest.raises(RateLimited) as exc:  # every attempt replays: retried once, then given up
        c2.accounts_list(limit=1)
    assert exc.value.status == 429 and exc.value.retryable and c2.stats["requests"] == 3


# ------------------------------------------------------------------------------------------------ faults and retries

FAULTS = [
    ("429", RateLimited),
    ("429_json", RateLimited),
    ("500", UpstreamUnavailable),
    ("503", UpstreamUnavailable),
    ("malformed_json", MalformedReply),  # retryable like an outage, but named for what it is (issue 17)
    ("hang", UpstreamUnavailable),
]


def _fault_client(sandbox, kind, **kw):
    if kind == "hang":
        kw.setdefault("timeout_s", 0.25)
    return make_client(sandbox, **kw)


@pytest.mark.parametrize(("kind", "error"), FAULTS)
def test_retries_until_success_when_faults_are_fewer_than_retries(sandbox, seeded, kind, error):
    sandbox.fault(Paths.MINER_INFO, kind, count=2, hang_s=0.6)
    c = _fault_client(sandbox, kind, max_retries=4)
    info = c.miner_info(account=seeded)
    assert info.workers_online + info.workers_offline + info.workers_low == 5
    assert c.stats["requests"] == 3 and c.stats["retries"] == 2
    if kind.startswith("429"):
        assert c.stats["rate_limited"] == 2
    if kind == "hang":
        assert c.stats["timeouts"] + c.stats.get("connection_errors") == 2


@pytest.mark.parametrize(("kind", "error"), FAULTS)
def test_gives_up_with_a_retryable_error_after_max_retries(sandbox, seeded, kind, error):
    sandbox.fault(Paths.MINER_INFO, kind, count=3, hang_s=0.6)
    c = _fault_client(sandbox, kind, max_retries=2)
    started = time.monotonic()
    with pytest.raises(error) as exc:
        c.miner_info(account=seeded)
    assert exc.value.retryable and exc.value.endpoint == Paths.MINER_INFO
    assert c.stats["requests"] == 3 and c.stats["retries"] == 2
    assert c.stats[f"errors:{error.__name__}"] == 1
    if kind == "hang":
        assert time.monotonic() - started < 3 * 0.25 + 0.5  # each attempt bounded by the client timeout


def test_backoff_is_full_jitter_and_capped(sandbox, seeded):
    delays: list[float] = []
    sandbox.fault(Paths.MINER_INFO, "500", count=4)
    c = make_client(sandbox, backoff_base_s=0.01, backoff_cap_s=0.03, max_retries=4, sleep=delays.append)
    c.miner_info(account=seeded)
    assert len(delays) == 4
    assert all(0 <= d <= cap for d, cap in zip(delays, [0.01, 0.02, 0.03, 0.03], strict=True))


def test_each_attempt_is_signed_with_a_fresh_nonce(sandbox, seeded):
    seen: list[int] = []

    class Recording:
        def next_nonce(self, api_key: str) -> int:
            n = max(int(time.time() * 1000), (seen[-1] + 1) if seen else 0)
            seen.append(n)
            return n

    sandbox.fault(Paths.MINER_INFO, "503", count=2)
    make_client(sandbox, nonces=Recording()).miner_info(account=seeded)
    assert len(seen) == 3 and len(set(seen)) == 3


def test_pool_rate_limit_without_a_budget_is_seen_and_counted(sandbox):
    """Control for the shared-budget test: with no budget, a small pool limit is hit and counted as 429."""
    from tests.fixtures.sandbox import sandbox_config, start_sandbox

    handle = start_sandbox(sandbox_config(rate_limit=5, rate_window_s=5.0))
    try:
        c = WhiteBitClient(handle.base_url, handle.api_key, handle.api_secret, budget=UnlimitedBudget(),
                           max_retries=0)
        outcomes = []
        for _ in range(8):
            try:
                c.accounts_list(limit=1)
                outcomes.append("ok")
            except RateLimited:
                outcomes.append("429")
        assert outcomes == ["ok"] * 5 + ["429"] * 3
        assert c.stats["rate_limited"] == 3 and handle.stats()["rate_limited"] == 3
    finally:
        handle.server.stop()


# ------------------------------------------------------------------------------------------------ secrets


def test_secret_and_signature_never_logged_or_in_repr(sandbox, seeded, caplog):
    caplog.set_level(logging.DEBUG)
    sandbox.fault(Paths.MINER_INFO, "500", count=1)
    c = make_client(sandbox)
    c.miner_info(account=seeded)
    assert sandbox.api_secret not in repr(c) and sandbox.api_key not in repr(c)
    assert sandbox.api_secret not in caplog.text
    assert "X-TXC-SIGNATURE" not in caplog.text and "X-TXC-PAYLOAD" not in caplog.text
    assert "retry 1/4" in caplog.text  # the retry itself is logged
