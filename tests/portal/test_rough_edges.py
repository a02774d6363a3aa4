"""Rough edges of issue 21: only actions the role allows are shown (the same check the service makes), roles and
audit diffs in words, and the API tokens linked from Settings."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from mining.models import Alert, AlertKind, MiningAccount
from tenants.audit import audit_record
from tenants.services.invitations import invitation_create
from tests.fixtures.access import login_verified


def _alert(world):
    account = MiningAccount.objects.create(provider=world.provider_a, customer=world.customer_a1, name="carol_site_1")
    return Alert.objects.create(provider=world.provider_a, account=account, customer=world.customer_a1,
                                kind=AlertKind.SYNC_STALE, condition_key="stale:x", message="Sync is late",
                                opened_at=timezone.now() - dt.timedelta(minutes=5))


def test_read_only_staff_see_no_acknowledge_and_owners_do(world, client):
    alert = _alert(world)
    login_verified(client, world.dave)
    page = client.get("/p/alpha/alerts/").content.decode()
    assert "Sync is late" in page and "Acknowledge" not in page
    assert client.post(f"/p/alpha/alerts/{alert.pk}/acknowledge/").status_code == 403  # the service's answer
    login_verified(client, world.alice)
    assert "Acknowledge" in client.get("/p/alpha/alerts/").content.decode()


def test_invitations_show_roles_in_words_and_revoke_only_to_who_may(world, client):
    invitation_create(scope=world.scope(world.alice, world.provider_a), email="new@alpha.example", role="read_only")
    login_verified(client, world.alice)
    page = client.get("/p/alpha/team/").content.decode()
    assert "<td>Read-only</td>" in page and "read_only</td>" not in page and ">Revoke<" in page
    login_verified(client, world.dave)
    page = client.get("/p/alpha/team/").content.decode()
    assert "<td>Read-only</td>" in page and ">Revoke<" not in page


def test_audit_log_diffs_in_words(world, client):
    scope = world.scope(world.alice, world.provider_a)
    audit_record(scope=scope, action="contract.version_update", object_type="billing.contractversion",
                 object_id=1, object_repr="Carol Mining from 2026-11-01",
                 before={"revenue_share_bps": 2000, "customer": None, "payout_hold_hours": 24},
                 after={"revenue_share_bps": 2500, "customer": world.customer_a1.pk, "payout_hold_hours": 48})
    login_verified(client, world.alice)
    page = client.get("/p/alpha/audit/").content.decode()
    assert "<strong>Revenue share</strong>: 20 % → 25 %" in page
    assert "<strong>Customer</strong>: — → Carol Mining" in page
    assert "<strong>Payout hold</strong>: 24 h → 48 h" in page
    assert "Contract version changed" in page
    assert "revenue_share_bps</strong>" not in page


def test_settings_link_the_api_tokens(world, client):
    login_verified(client, world.alice)
    page = client.get("/p/alpha/settings/").content.decode()
    assert 'href="/p/alpha/api-tokens/"' in page
    assert client.get("/p/alpha/api-tokens/").status_code == 200


def test_units_in_words_exact():
    from billing.templatetags.billing_money import plain_decimal
    from portal.templatetags.billing_setup import grouped

    assert plain_decimal("0.000125000000000000000000") == "0.000125"
    assert plain_decimal("12.500000") == "12.5"
    assert grouped("97000.00") == "97,000" and grouped("1234567.891") == "1,234,567.891" and grouped(-5000) == "-5,000"
