"""`POST /_sandbox/workers`: a worker's state set over HTTP, and everything the pool reports follows it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fixtures.sandbox import sandbox_config, start_sandbox

P = "/api/v4/mining"


@pytest.fixture
def pool():
    handle = start_sandbox(sandbox_config(accounts=1, workers=5))
    yield handle
    handle.session.close()
    handle.server.stop()


def _names(pool) -> list[str]:
    return pool.post(f"{P}/workers/names", {"account": "acct_001"}).json()["data"]["workers"]


def _counts(pool) -> dict:
    return pool.post(f"{P}/miners/info", {"account": "acct_001"}).json()["data"]["workers"]


def _last_hour(pool, worker: str) -> str:
    points = pool.post(f"{P}/workers/hashrate", {"account": "acct_001", "worker": worker, "interval": "1h"}).json()
    return points["data"]["hashrates"][-1]["hashrate"]


@pytest.mark.parametrize(("state", "listed", "counted_as"), [
    ("online", True, "online"), ("low", True, "low"), ("zero", True, "online"), ("offline", False, "offline")])
def test_each_state_moves_names_counts_and_points(pool, state, listed, counted_as):
    natural = pool.worker_states()["acct_001"]["states"]
    group = {"zero": "online"}  # the pool counts a connected worker at 0 H/s as online
    worker = next(w for w, s in sorted(natural.items()) if group.get(s, s) != counted_as)
    before = _counts(pool)
    before_hour = _last_hour(pool, worker)
    answer = pool.set_worker_state("acct_001", worker, state)
    assert next(w for a in answer["accounts"] for w in a["workers"] if w["worker"] == worker)["state"] == state
    assert (worker in _names(pool)) is listed
    after = _counts(pool)
    assert after[counted_as] == before[counted_as] + 1 and sum(after.values()) == sum(before.values()) == 5
    assert pool.worker_states()["acct_001"]["counts"] == after
    hour = _last_hour(pool, worker)
    if state in ("zero", "offline"):
        assert hour == "0"
    else:
        assert hour != "0" and hour != before_hour
    pool.clear_worker_states()
    assert _counts(pool) == before and _last_hour(pool, worker) == before_hour


def test_history_before_since_stays_as_simulated(pool):
    earlier = pool.post(f"{P}/workers/hashrate", {"account": "acct_001", "worker": "worker_001", "interval": "1h"})
    pool.set_worker_state("acct_001", "worker_001", "zero", since=pool.frozen_now - timedelta(hours=1))
    later = pool.post(f"{P}/workers/hashrate", {"account": "acct_001", "worker": "worker_001", "interval": "1h"})
    before, after = earlier.json()["data"]["hashrates"], later.json()["data"]["hashrates"]
    assert before[:-1] == after[:-1] and after[-1]["hashrate"] == "0"


def test_bad_requests_are_named_field_by_field_and_change_nothing(pool):
    before = pool.worker_states()
    response = pool.session.post(pool.base_url + "/_sandbox/workers",
                                 json={"account": "nope", "state": "asleep", "since": "yesterday"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"account", "state", "since"}
    response = pool.session.post(pool.base_url + "/_sandbox/workers",
                                 json={"account": "acct_001", "worker": "worker_999", "state": "low"})
    assert response.status_code == 400 and set(response.json()["errors"]) == {"worker"}
    assert pool.worker_states() == before
