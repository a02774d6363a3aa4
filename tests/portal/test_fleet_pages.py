"""After a sync, staff see the whole fleet and each customer sees exactly their own accounts and rewards."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from billing.templatetags.billing_money import btc
from mining.models import Reward
from mining.services.accounts import mining_account_assign
from portal.templatetags.units import hashrate
from tenants import services
from tenants.models import CustomerRole, StaffRole
from tests.fixtures.access import login_verified
from tests.mining.test_sync import sync_all

PASSWORD = "fleet-pages-password"


def test_staff_and_customers_see_their_own_fleet(pool_provider, client, time_machine):
    pp = pool_provider
    other = services.customer_create(provider=pp.provider, name="Other Co", slug="other-co")
    moved = pp.accounts[-1]
    # Given to Other Co before any of its history: every row of it is Other Co's.
    mining_account_assign(scope=pp.scope, account_id=moved.pk, customer_id=other.pk,
                          effective_on=pp.data_now.date() - timedelta(days=60), today=pp.data_now.date())
    sync_all(pp)
    time_machine.move_to(pp.data_now + timedelta(minutes=1), tick=False)  # the pages read a minute after the sync
    staff = services.user_get_or_create(email="staff@pool.example", password=PASSWORD)
    services.provider_membership_grant(provider=pp.provider, user=staff, role=StaffRole.READ_ONLY)
    viewer = services.user_get_or_create(email="viewer@miner.example", password=PASSWORD)
    services.customer_membership_grant(customer=pp.customer, user=viewer, role=CustomerRole.VIEWER)

    login_verified(client, staff)  # staff pass the second factor first
    # The older overview leads to the fleet console (issue 16: it counted workers its own way).
    old = client.get(f"/p/{pp.provider.slug}/")
    assert old.status_code == 302 and old["Location"] == f"/p/{pp.provider.slug}/fleet/"
    page = client.get(f"/p/{pp.provider.slug}/accounts/").content.decode()
    for account in pp.accounts:
        assert account.name in page
    assert "Other Co" in page and "In step" in page

    client.login(username="viewer@miner.example", password=PASSWORD)
    old = client.get(f"/c/{pp.provider.slug}/miner-co/")
    assert old.status_code == 302 and old["Location"] == f"/c/{pp.provider.slug}/miner-co/dashboard/"
    page = client.get(old["Location"]).content.decode()
    assert moved.name not in page
    for account in pp.accounts[:-1]:
        assert account.name in page
    newest = Reward.objects.filter(account=pp.accounts[0]).order_by("-date").first()
    assert btc(newest.reward_sats) in page
    assert client.get(f"/c/{pp.provider.slug}/other-co/").status_code == 404


def test_unit_filters_are_exact():
    assert btc(123456) == "0.00123456 BTC" and btc(None) == "–"
    assert hashrate(Decimal("123450000000000")) == "123.45 TH/s"
    assert hashrate(Decimal("2500000000000000000")) == "2.50 EH/s"
    assert hashrate(0) == "0.00 H/s"
