"""The pool's odd answers, named for what they are (issue 17, item 6), against the sandbox pool over HTTP.

* A cut-off (malformed) JSON reply is "answered with a malformed reply", not "not reachable": the pool answered.
* A slow pool is waited for: the tests' client timeout is above the sandbox's slow-pool hang, and a reply that
  times out once succeeds on the retry.
"""

from __future__ import annotations

import pytest

from mining.models import MiningAccount
from mining.services.sync import mining_account_sync
from mining.whitebit.errors import MalformedReply, UpstreamUnavailable
from tests.fixtures.mining import SLOW_POOL_HANG_S
from tests.mining.test_sync import sync_all

REWARDS = "/api/v4/mining/rewards"


def test_a_malformed_reply_is_named_as_such_on_the_account(pool_provider, sandbox_pool, settings):
    settings.WHITEBIT_MAX_RETRIES = 1
    account = pool_provider.accounts[0]
    sandbox_pool.fault(REWARDS, "malformed_json", count=2)  # the first try and its one retry
    try:
        report = mining_account_sync(provider_id=pool_provider.provider.pk, account_id=account.pk,
                                     now=pool_provider.data_now, raise_retryable=False)
    finally:
        sandbox_pool.clear_faults()
    assert report.accounts_failed == 1
    account.refresh_from_db()
    assert account.sync_status == MiningAccount.SyncStatus.RETRYING  # it may heal: retried, not "needs attention"
    assert account.sync_error.startswith("WhiteBIT's mining pool answered with a malformed reply")
    assert "not reachable" not in account.sync_error


def test_the_client_raises_a_retryable_malformed_reply(pool_provider, sandbox_pool, settings):
    from mining.upstream import client_for_provider

    settings.WHITEBIT_MAX_RETRIES = 0
    sandbox_pool.fault("/api/v4/mining/miners/info", "malformed_json", count=1)
    try:
        with pytest.raises(MalformedReply) as caught:
            client_for_provider(pool_provider.provider).miner_info(account=pool_provider.accounts[0].name)
    finally:
        sandbox_pool.clear_faults()
    assert isinstance(caught.value, UpstreamUnavailable) and caught.value.retryable and caught.value.status == 200


def test_a_slow_pool_within_the_timeout_is_waited_for(pool_provider, sandbox_pool, settings):
    assert settings.WHITEBIT_TIMEOUT_S > SLOW_POOL_HANG_S
    sandbox_pool.fault(REWARDS, "hang", count=2, hang_s=SLOW_POOL_HANG_S)
    try:
        report = sync_all(pool_provider)
    finally:
        sandbox_pool.clear_faults()
    assert not report.errors and report.accounts_synced == len(pool_provider.accounts)
    assert report.requests.get("timeouts", 0) == 0 and report.requests.get("retries", 0) == 0


def test_a_reply_that_times_out_once_succeeds_on_the_retry(pool_provider, sandbox_pool, settings):
    # The first answer comes after the timeout; the retry meets a slow pool that answers within it.
    sandbox_pool.fault(REWARDS, "hang", count=1, hang_s=settings.WHITEBIT_TIMEOUT_S + 1)
    sandbox_pool.fault(REWARDS, "hang", count=1, hang_s=SLOW_POOL_HANG_S)
    account = pool_provider.accounts[0]
    try:
        report = mining_account_sync(provider_id=pool_provider.provider.pk, account_id=account.pk,
                                     now=pool_provider.data_now)
    finally:
        sandbox_pool.clear_faults()
    assert not report.errors and report.accounts_synced == 1
    assert report.requests.get("timeouts", 0) == 1 and report.requests.get("retries", 0) == 1
    assert MiningAccount.objects.get(pk=account.pk).sync_status == MiningAccount.SyncStatus.OK
