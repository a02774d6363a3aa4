"""The customer's payout page against the sandbox pool over HTTP: shown to all; changed by the customer's admin only
where the provider allows it; the checksum is checked before anything is sent; the change asks for a code and is held
(tests/payouts/ follow it to the pool), and is e-mailed (outbox) to the provider's owners and admins and the
customer's contacts at once, with cancel links; viewers, other customers and outsiders change
nothing. The staff settings page holds the provider's switch."""

from __future__ import annotations

import pytest
from django.core import mail

from mining.models import MiningAccount, PayoutChange
from mining.services.upstream_writes import mining_account_create
from tenants import services
from tenants.email import email_send
from tenants.models import AuditEntry, CustomerRole, OutboundEmail, Provider, StaffRole
from tests.fixtures.access import login_verified, totp_code, totp_device_for
from tests.portal.portal_rows import fleet_rows_add

PASSWORD = "payout-page-password-1"
GOOD = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
TYPO = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdp"  # one character off
EDIT = "/api/v4/mining/payout-destination/edit"


@pytest.fixture
def payout_world(pool_provider, sandbox_clean):
    pp = pool_provider
    account = mining_account_create(scope=pp.scope, name=sandbox_clean.unique_name("pay"), customer_id=pp.customer.pk)
    users = {}
    for email, role in (("admin@miner.example", CustomerRole.ADMIN), ("viewer@miner.example", CustomerRole.VIEWER)):
        users["c_" + role] = services.user_get_or_create(email=email, password=PASSWORD)
        services.customer_membership_grant(customer=pp.customer, user=users["c_" + role], role=role)
    for email, role in (("owner@pool.example", StaffRole.OWNER), ("admin@pool.example", StaffRole.ADMIN),
                        ("operator@pool.example", StaffRole.OPERATOR)):
        users["s_" + role] = services.user_get_or_create(email=email, password=PASSWORD)
        services.provider_membership_grant(provider=pp.provider, user=users["s_" + role], role=role)
    base = f"/c/{pp.provider.slug}/miner-co/payout/"
    return pp, account, users, base


def _upstream(sandbox, account):
    return sandbox.post("/api/v4/mining/payout-destination", {"accountName": account.name}).json()


def _edits(sandbox) -> int:
    return sandbox.stats()["by_endpoint"].get(EDIT, {}).get("total", 0)


def _allow(pp, allowed=True):
    Provider.objects.filter(pk=pp.provider.pk).update(customers_may_change_payout=allowed)


def test_provider_sets_it_by_default_so_the_customer_admin_is_refused(payout_world, sandbox_clean, client):
    pp, account, users, base = payout_world
    login_verified(client, users["c_admin"])
    page = client.get(base).content.decode()
    assert "Your hosting provider sets the payout destination" in page and 'name="address"' not in page
    assert account.name in page
    sent_before = _edits(sandbox_clean)
    refused = client.post(base, {"account_id": account.pk, "destination": "external_address", "address": GOOD})
    assert refused.status_code == 403
    assert "Your hosting provider sets the payout destination" in refused.content.decode()
    assert _edits(sandbox_clean) == sent_before and _upstream(sandbox_clean, account)["externalAddress"] is None
    assert not AuditEntry.objects.filter(action__startswith="payout_change.").exists()
    assert not PayoutChange.objects.exists() and not OutboundEmail.objects.exists()


def test_admin_changes_it_where_allowed_checked_first_and_e_mailed_once(payout_world, sandbox_clean, client):
    pp, account, users, base = payout_world
    _allow(pp)
    login_verified(client, users["c_admin"])
    assert 'name="address"' in client.get(base).content.decode()
    sent_before = _edits(sandbox_clean)

    typo = client.post(base, {"account_id": account.pk, "destination": "external_address", "address": TYPO})
    assert typo.status_code == 400
    assert "This address&#x27;s checksum is wrong: check for a typing mistake." in typo.content.decode()
    testnet = client.post(base, {"account_id": account.pk, "destination": "external_address",
                                 "address": "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7"})
    assert "This is a testnet address" in testnet.content.decode()
    missing = client.post(base, {"account_id": account.pk, "destination": "external_address", "address": " "})
    assert "A Bitcoin address is required" in missing.content.decode()
    assert _edits(sandbox_clean) == sent_before  # nothing reached the pool
    assert MiningAccount.objects.get(pk=account.pk).payout_address == ""

    assert not PayoutChange.objects.exists()

    # Issue 15: the change asks for a fresh code and is held; nothing reaches the pool yet.
    code = totp_code(totp_device_for(users["c_admin"]))
    body = {"account_id": account.pk, "destination": "external_address", "address": GOOD, "code": code}
    saved = client.post(base, body, follow=True).content.decode()
    assert "Held:" in saved and "cancel link" in saved
    again = client.post(base, body)  # a double submit: the code worked once, and the change is already pending
    assert again.status_code == 400
    change = PayoutChange.objects.get()
    assert change.status == "held" and change.address == GOOD
    assert _edits(sandbox_clean) == sent_before and _upstream(sandbox_clean, account)["externalAddress"] is None
    page = client.get(base).content.decode()
    assert GOOD in page and f'data-payout-change="{change.pk}"' in page
    entry = AuditEntry.objects.get(action="payout_change.request")
    assert entry.actor_user_id == users["c_admin"].pk and entry.changes["address"] == [None, GOOD]

    rows = OutboundEmail.objects.filter(dedupe_key=f"payout_change:{change.pk}:held")
    assert sorted(rows.values_list("recipient", flat=True)) == [
        "admin@miner.example", "admin@pool.example", "ops@miner.example", "owner@pool.example"]  # not the operator
    assert rows.get(recipient="ops@miner.example").customer_id == pp.customer.pk
    for row in rows:
        email_send(email_id=row.pk)
    assert len(mail.outbox) == 4
    message = next(m for m in mail.outbox if m.to == ["ops@miner.example"])
    assert account.name in message.subject and GOOD in message.body and "admin@miner.example" in message.body
    assert "/account/payout-change/cancel/" in message.body


def test_viewer_other_customer_and_outsider_change_nothing(payout_world, sandbox_clean, client):
    pp, account, users, base = payout_world
    _allow(pp)
    other = services.customer_create(provider=pp.provider, name="Other Co", slug="other-co")
    theirs = mining_account_create(scope=pp.scope, name=sandbox_clean.unique_name("oth"), customer_id=other.pk)
    client.force_login(users["c_viewer"])
    page = client.get(base).content.decode()
    assert account.name in page and 'name="address"' not in page and "Your admin can change it." in page
    body = {"account_id": account.pk, "destination": "external_address", "address": GOOD}
    assert client.post(base, body).status_code == 403
    login_verified(client, users["c_admin"])
    assert client.get(f"/c/{pp.provider.slug}/other-co/payout/").status_code == 404
    assert client.post(base, {**body, "account_id": theirs.pk}).status_code == 404  # my URL, their account
    assert client.post(f"/c/{pp.provider.slug}/other-co/payout/", {**body, "account_id": theirs.pk}).status_code == 404
    for a in (account, theirs):
        assert _upstream(sandbox_clean, a)["externalAddress"] is None
    assert not AuditEntry.objects.filter(action__startswith="payout_change.").exists()
    assert not PayoutChange.objects.exists() and not OutboundEmail.objects.exists()


def test_staff_settings_switch_owner_and_admin_only(payout_world, client):
    pp, account, users, base = payout_world
    url = f"/p/{pp.provider.slug}/settings/"
    login_verified(client, users["s_operator"])
    page = client.get(url).content.decode()
    assert "Only your staff change payout destinations." in page and 'type="checkbox"' not in page
    assert client.post(url, {"customers_may_change_payout": "on"}).status_code == 403
    assert not Provider.objects.get(pk=pp.provider.pk).customers_may_change_payout
    login_verified(client, users["s_admin"])
    assert client.post(url, {"customers_may_change_payout": "on"}).status_code == 302
    assert client.post(url, {"customers_may_change_payout": "on"}).status_code == 302  # twice: one change
    assert Provider.objects.get(pk=pp.provider.pk).customers_may_change_payout
    entry = AuditEntry.objects.get(action="provider.payout_policy_set")
    assert entry.changes == {"customers_may_change_payout": [False, True]}
    assert client.post(url, {}).status_code == 302
    assert not Provider.objects.get(pk=pp.provider.pk).customers_may_change_payout
    # Staff change a customer's payout from the customer pages whatever the switch says.
    login_verified(client, users["s_operator"])
    assert 'name="address"' in client.get(base).content.decode()


def test_payout_page_with_its_form_costs_the_same_with_1_and_50_accounts(world, client, django_assert_num_queries):
    Provider.objects.filter(pk=world.provider_a.pk).update(customers_may_change_payout=True)
    fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=1)
    client.force_login(world.carol)
    url = "/c/alpha/carol-mining/payout/"
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(url)
    fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=49)
    with django_assert_num_queries(len(one.captured_queries)):
        page = client.get(url).content.decode()
    assert page.count("<option value=") == 50 and page.count("<tr><td>") == 50
