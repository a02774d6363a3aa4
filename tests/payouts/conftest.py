from __future__ import annotations

import pytest
import time_machine

from tests.payouts.helpers import START, pool_start, pool_stop, world_make


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=True) as traveller:
        yield traveller


@pytest.fixture
def own_pool(clock, fast_upstream_retries):
    pool = pool_start()
    try:
        yield pool
    finally:
        pool_stop(pool)


@pytest.fixture
def pw(db, own_pool, clock):
    return world_make(own_pool, clock)
