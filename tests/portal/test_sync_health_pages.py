"""Pages read an account's sync as it is now (issue 17 item 1): a sync stuck on a hanging pool reads "Syncing",
a dead one "Stalled", never "In step" from the outcome stored before it started."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from mining.models import MiningAccount
from mining.services.sync import mining_account_sync
from portal.api.mining.serializers import MiningAccountSerializer
from tenants import services
from tenants.models import StaffRole
from tests.fixtures.access import login_verified
from tests.fixtures.mining import pool_provider_make
from tests.mining.test_sync import sync_all


def _row(html: str, name: str) -> str:
    rows = [r for r in re.findall(r"<tr>.*?</tr>", html, flags=re.S) if f">{name}<" in r or f"{name}<div" in r]
    assert rows, f"no row for {name}"
    return rows[0]


def _staff_client(pp) -> Client:
    owner = services.user_get_or_create(email="owner@pool.example", password="sync-health-password")
    services.provider_membership_grant(provider=pp.provider, user=owner, role=StaffRole.OWNER)
    client = Client()
    login_verified(client, owner)
    return client


@pytest.mark.django_db(transaction=True)
def test_while_the_pool_hangs_the_account_reads_syncing_not_in_step(sandbox_clean, fast_upstream_retries, settings):
    sandbox_pool = sandbox_clean
    # This sync runs on the wall clock, like a worker's: the pool's data clock follows it (restored afterwards).
    sandbox_pool.set_clock(datetime.now(UTC).replace(minute=0, second=0, microsecond=0))
    pp = pool_provider_make(sandbox_pool)
    sync_all(pp, now=datetime.now(UTC))  # every account in step a moment ago
    client = _staff_client(pp)
    account = pp.accounts[0]
    # The customer's page (its account rows) and the accounts list; the older overview now redirects to the fleet.
    home, accounts_page = f"/p/{pp.provider.slug}/customers/{pp.customer.slug}/", f"/p/{pp.provider.slug}/accounts/"
    assert "In step" in _row(client.get(home).content.decode(), account.name)
    # The next cycle's rewards request hangs for the client's whole timeout, and so does its retry.
    settings.WHITEBIT_TIMEOUT_S = 2
    settings.WHITEBIT_MAX_RETRIES = 1
    sandbox_pool.fault("/api/v4/mining/rewards", "hang", count=2, hang_s=4)
    outcome: dict = {}

    def cycle() -> None:
        try:
            outcome["report"] = mining_account_sync(provider_id=pp.provider.pk, account_id=account.pk,
                                                    raise_retryable=False)
        finally:
            from django.db import connection

            connection.close()

    thread = threading.Thread(target=cycle)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while "rewards" in json.dumps(sandbox_pool.control("GET", "/_sandbox/faults")):
            assert time.monotonic() < deadline, "the sync never reached rewards"
            time.sleep(0.05)
        for page in (home, accounts_page):
            row = _row(client.get(page).content.decode(), account.name)
            assert "In step" not in row and "Syncing" in row, row
        data = MiningAccountSerializer(MiningAccount.objects.get(pk=account.pk)).data
        assert data["sync_status"] == "ok" and data["sync_state"] == "syncing"  # the API says what it does now
    finally:
        thread.join(timeout=30)
        sandbox_pool.clear_faults()
    # The hang ends in a timeout: "Retrying", with the pool's reason, until the task's retry runs.
    assert outcome["report"].accounts_failed == 1
    row = _row(client.get(home).content.decode(), account.name)
    assert "Retrying" in row and "In step" not in row


@pytest.mark.django_db(transaction=True)
def test_a_fleet_with_no_live_worker_reads_stalled_on_every_page_at_once(sandbox_pool, fast_upstream_retries,
                                                                          time_machine):
    pp = pool_provider_make(sandbox_pool)
    sync_all(pp)
    client = _staff_client(pp)
    time_machine.move_to(pp.data_now + timedelta(minutes=11), tick=False)  # two cycles, nothing synced
    home = client.get(f"/p/{pp.provider.slug}/accounts/").content.decode()
    fleet = client.get(f"/p/{pp.provider.slug}/fleet/").content.decode()
    for account in pp.accounts:
        row = _row(home, account.name)
        assert "Stalled" in row and "In step" not in row
    assert "All accounts in step" not in fleet and "Last in step 11 minutes ago" in fleet
