"""One worker state everywhere (issue 16): each state set on the sandbox pool over HTTP, a real sync, and then the
fleet console, the customer page (cards and rows), the customer dashboard, the workers lists and the REST API all
show the same counts, and those are the pool's own counts.

A sandbox of its own (module scope): the states set here must not leak into the session sandbox other tests read.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from mining.models import Worker
from mining.selectors.workers import WorkerReading, worker_states_classify
from tenants import services
from tenants.access import scope_for_system
from tenants.models import CustomerRole, StaffRole
from tenants.tokens import api_token_create
from tests.fixtures.access import login_verified
from tests.fixtures.mining import pool_provider_make
from tests.fixtures.sandbox import sandbox_config, start_sandbox
from tests.mining.test_sync import sync_all

PASSWORD = "worker-states-password"
ACCOUNT = "acct_001"
STATUS_LABEL = {"online": "Online", "low": "Low hashrate", "zero": "Listed, 0 H/s", "offline": "Offline"}


@pytest.fixture(scope="module")
def own_sandbox():
    handle = start_sandbox(sandbox_config(accounts=2, workers=5))
    yield handle
    handle.session.close()
    handle.server.stop()


@pytest.fixture
def pool(own_sandbox, fast_upstream_retries, settings):
    settings.API_THROTTLE_RATE = "100000/min"
    own_sandbox.clear_worker_states()
    yield own_sandbox
    own_sandbox.clear_worker_states()


def _world(pool, client):
    pp = pool_provider_make(pool)
    staff = services.user_get_or_create(email=f"staff-{pp.provider.slug}@pool.example", password=PASSWORD)
    services.provider_membership_grant(provider=pp.provider, user=staff, role=StaffRole.READ_ONLY)
    login_verified(client, staff)
    pp.token = api_token_create(scope=scope_for_system(provider_id=pp.provider.pk, actor="test"), name="t",
                                scopes=["read"]).plaintext
    return pp


def _cards(html: str) -> dict[str, int]:
    """The worker figures of a page: online, low, at 0 H/s, offline."""
    pattern = r'<span class="value">(\d+)</span><span class="label">workers (online|low|at 0 H/s|offline)'
    found = {label: value for value, label in re.findall(pattern, html)}
    return {"online": int(found["online"]), "low": int(found["low"]), "zero": int(found["at 0 H/s"]),
            "offline": int(found["offline"])}


def _rows(html: str) -> list[dict[str, int]]:
    rows = re.findall(r'<span class="worker-states">(\d+) on · (\d+) low · (\d+) at 0 H/s · (\d+) off', html)
    return [dict(zip(("online", "low", "zero", "offline"), map(int, r), strict=True)) for r in rows]


def _pool_counts(pool) -> dict[str, int]:
    """The pool's own per-account counts (what miners/info answers), summed over its accounts."""
    total = {"online": 0, "low": 0, "offline": 0}
    for account in pool.worker_states().values():
        for k in total:
            total[k] += account["counts"][k]
    return total


def _staff_worker_status(html: str, account: str, worker: str) -> str:
    row = html[html.index(f">{account}.{worker}</label>"):]
    return re.search(r'<span class="badge [a-z]+">([^<]+)</span>', row).group(1)


def _every_page_agrees(pp, pool, client) -> dict[str, int]:
    slug = pp.provider.slug
    fleet = _cards(client.get(f"/p/{slug}/fleet/").content.decode())
    detail_html = client.get(f"/p/{slug}/customers/{pp.customer.slug}/").content.decode()
    detail, rows = _cards(detail_html), _rows(detail_html)
    dashboard = _cards(client.get(f"/c/{slug}/{pp.customer.slug}/dashboard/").content.decode())
    staff_workers = _cards(client.get(f"/p/{slug}/workers/").content.decode())
    customer_workers = _cards(client.get(f"/c/{slug}/{pp.customer.slug}/workers/").content.decode())
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {pp.token}")
    accounts = api.get("/api/v1/mining-accounts/").json()["results"]
    from_api = {k: sum(a["worker_states"][k] for a in accounts) for k in ("online", "low", "zero", "offline")}
    row_sum = {k: sum(r[k] for r in rows) for k in ("online", "low", "zero", "offline")}
    assert len(rows) == len(pp.accounts)
    assert fleet == detail == row_sum == dashboard == staff_workers == customer_workers == from_api
    pool_counts = _pool_counts(pool)
    # The pool's counts are the truth for totals; it counts a connected worker at 0 H/s as online.
    assert (fleet["online"] + fleet["zero"], fleet["low"], fleet["offline"]) == (
        pool_counts["online"], pool_counts["low"], pool_counts["offline"])
    # The API's account rows carry the pool's own counts beside the states, and they agree too.
    assert sum(a["workers_online"] for a in accounts) == pool_counts["online"]
    return fleet


def _naturally(pool, state: str) -> str:
    states = pool.worker_states()[ACCOUNT]["states"]
    return next(w for w, s in sorted(states.items()) if s == state)


@pytest.mark.parametrize("state", ["online", "low", "zero"])
def test_each_listed_state_set_on_the_pool_shows_alike_on_every_page_and_the_api(state, pool, client, db):
    # online: a worker the simulation has offline now comes back; low and zero: one hashing normally degrades.
    worker = _naturally(pool, "offline" if state == "online" else "online")
    pool.set_worker_state(ACCOUNT, worker, state)
    assert pool.worker_states()[ACCOUNT]["states"][worker] == state
    pp = _world(pool, client)
    report = sync_all(pp)
    assert not report.errors

    row = Worker.objects.get(account__name=ACCOUNT, account__provider=pp.provider, name=worker)
    assert row.status == state
    if state == "zero":
        assert row.current_hashrate_hs == 0
    counts = _every_page_agrees(pp, pool, client)
    assert counts[state] >= 1
    slug = pp.provider.slug
    assert _staff_worker_status(client.get(f"/p/{slug}/workers/").content.decode(), ACCOUNT, worker) \
        == STATUS_LABEL[state]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {pp.token}")
    listed = {w["name"]: w["status"] for w in api.get("/api/v1/workers/", {"account_id": row.account_id,
                                                                            "page_size": 100}).json()["results"]}
    assert listed[worker] == state
    # Filtering by the state finds it on the customer's workers table.
    filtered = client.get(f"/c/{slug}/{pp.customer.slug}/workers/?status={state}").content.decode()
    assert f">{ACCOUNT}.{worker}<" in filtered
    # A re-sync of the same pool changes no state.
    again = sync_all(pp)
    assert again.rows.get("Worker") is None or again.rows["Worker"].updated == 0
    assert Worker.objects.get(pk=row.pk).status == state


def test_a_worker_set_offline_after_it_was_seen_is_offline_everywhere(pool, client, db):
    worker = _naturally(pool, "online")
    pp = _world(pool, client)
    sync_all(pp)
    pool.set_worker_state(ACCOUNT, worker, "offline")
    sync_all(pp)
    row = Worker.objects.get(account__name=ACCOUNT, account__provider=pp.provider, name=worker)
    assert row.status == "offline" and row.offline_since_at is not None
    counts = _every_page_agrees(pp, pool, client)
    assert counts["offline"] == _pool_counts(pool)["offline"]
    assert _staff_worker_status(client.get(f"/p/{pp.provider.slug}/workers/").content.decode(), ACCOUNT, worker) \
        == "Offline"


def test_the_pools_unnamed_offline_workers_get_their_own_row(pool, client, db):
    """Offline since before the first sync: the pool counts them, the portal never learnt their names. Before
    issue 16 they were invisible (an account said "2 off" while Workers listed none)."""
    states = pool.worker_states()[ACCOUNT]["states"]
    hidden = [w for w, s in sorted(states.items()) if s != "offline"][:2]
    for worker in hidden:
        pool.set_worker_state(ACCOUNT, worker, "offline")
    unnamed = sum(1 for s in pool.worker_states()[ACCOUNT]["states"].values() if s == "offline")
    pp = _world(pool, client)
    sync_all(pp)
    assert not Worker.objects.filter(account__provider=pp.provider, name__in=hidden, account__name=ACCOUNT).exists()
    counts = _every_page_agrees(pp, pool, client)
    assert counts["offline"] >= unnamed
    text = f"{ACCOUNT}: {unnamed} offline workers the pool has not named"
    slug = pp.provider.slug
    staff = client.get(f"/p/{slug}/workers/").content.decode()
    assert text in staff and "not named by the pool" in staff
    customer = client.get(f"/c/{slug}/{pp.customer.slug}/workers/").content.decode()
    assert text in customer
    assert text in client.get(f"/c/{slug}/{pp.customer.slug}/workers/?status=offline").content.decode()
    assert text not in client.get(f"/c/{slug}/{pp.customer.slug}/workers/?status=online").content.decode()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {pp.token}")
    account = next(a for a in api.get("/api/v1/mining-accounts/").json()["results"] if a["name"] == ACCOUNT)
    assert account["worker_states"]["offline_unnamed"] == unnamed


def test_the_older_overviews_redirect_to_the_one_page_each(pool, client, db):
    pp = _world(pool, client)
    sync_all(pp)
    slug = pp.provider.slug
    old = client.get(f"/p/{slug}/")
    assert old.status_code == 302 and old["Location"] == f"/p/{slug}/fleet/"
    viewer = services.user_get_or_create(email=f"viewer-{slug}@miner.example", password=PASSWORD)
    services.customer_membership_grant(customer=pp.customer, user=viewer, role=CustomerRole.VIEWER)
    client.force_login(viewer)
    old = client.get(f"/c/{slug}/{pp.customer.slug}/")
    assert old.status_code == 302 and old["Location"] == f"/c/{slug}/{pp.customer.slug}/dashboard/"
    assert _cards(client.get(old["Location"]).content.decode())["online"] >= 1
    assert client.get(f"/p/{slug}/").status_code == 404  # a customer's user is still an outsider to the staff side
    assert client.get(f"/c/{slug}/nobody/").status_code == 404


def _r(name, current, mean, listed=True):
    return WorkerReading(name, listed, None if current is None else Decimal(current),
                         None if mean is None else Decimal(mean))


def test_low_is_the_k_lowest_against_their_own_mean_where_the_pool_counts_k_low():
    readings = [
        _r("a", 100, 100),  # at its mean
        _r("b", 50, 200),  # a quarter of its mean: the lowest
        _r("c", 60, 100),  # 60 %
        _r("d", 0, 100),  # listed at 0 H/s: zero, never low
        _r("e", None, None, listed=False),  # not listed: offline
        _r("f", 10, None),  # no mean yet: ranked after every worker that has one
    ]
    assert worker_states_classify(readings=readings, pool_low=2) == {
        "a": "online", "b": "low", "c": "low", "d": "zero", "e": "offline", "f": "online"}
    assert worker_states_classify(readings=readings, pool_low=0)["b"] == "online"
    everyone = worker_states_classify(readings=readings, pool_low=9)
    assert [n for n, s in sorted(everyone.items()) if s == "low"] == ["a", "b", "c", "f"]
