"""The staff console: fleet overview on synced data, sync health with "sync now", alerts and acknowledging."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client

from billing.templatetags.billing_money import btc_hover
from mining.models import Alert, MiningAccount
from mining.services.accounts import mining_account_assign
from mining.services.operations import alert_acknowledge, mining_account_sync_request
from tenants import services
from tenants.access import scope_for_user
from tenants.models import AuditEntry, StaffRole
from tests.fixtures.access import login_verified
from tests.mining.test_sync import sync_all
from tests.portal.portal_rows import DATA_NOW, fleet_rows_add


@pytest.fixture
def staff(pool_provider, client):
    pp = pool_provider
    other = services.customer_create(provider=pp.provider, name="Other Co", slug="other-co")
    mining_account_assign(scope=pp.scope, account_id=pp.accounts[-1].pk, customer_id=other.pk,
                          effective_on=pp.data_now.date() - timedelta(days=60), today=pp.data_now.date())
    sync_all(pp)
    owner = services.user_get_or_create(email="owner@pool.example", password="staff-console-password")
    services.provider_membership_grant(provider=pp.provider, user=owner, role=StaffRole.OWNER)
    login_verified(client, owner)
    pp.owner = owner
    pp.base = f"/p/{pp.provider.slug}/"
    return pp


def test_fleet_draws_one_line_per_customer_and_the_figures(staff, client, time_machine):
    pp = staff
    time_machine.move_to(pp.data_now, tick=False)  # "this month" and "in step" are about the data's own day
    html = client.get(pp.base + "fleet/").content.decode()
    start = html.index('<script id="fleet-data" type="application/json">')
    data = json.loads(html[html.index(">", start) + 1:html.index("</script>", start)])
    assert sorted(s["label"] for s in data["series"]) == ["Miner Co", "Other Co"]
    assert len(data["times"]) == 288
    from mining.models import Reward
    mtd = sum(Reward.objects.filter(provider=pp.provider, date__gte=pp.data_now.date().replace(day=1),
                                    date__lte=pp.data_now.date()).exclude(status="canceled")
              .values_list("reward_sats", flat=True))
    assert f"{btc_hover(mtd)}</span><span class=\"label\">net this month" in html
    assert "All accounts in step" in html


def test_a_failing_or_stale_account_is_listed_with_its_reason_and_sync_now_queues_one_sync(
        staff, client, django_capture_on_commit_callbacks, time_machine):
    pp = staff
    time_machine.move_to(pp.data_now, tick=False)
    failing, stale = pp.accounts[0], pp.accounts[1]
    MiningAccount.objects.filter(pk=failing.pk).update(
        sync_status="failed", sync_error="The pool refused the API key: check it in the provider settings.")
    MiningAccount.objects.filter(pk=stale.pk).update(last_synced_at=pp.data_now - timedelta(minutes=50))
    MiningAccount.objects.filter(pk=pp.accounts[2].pk).update(last_synced_at=pp.data_now - timedelta(days=3))
    html = client.get(pp.base + "fleet/").content.decode()
    assert "The pool refused the API key" in html
    assert "Last in step 50 minutes ago" in html and "Last in step 3 days ago" in html
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(pp.base + f"accounts/{failing.pk}/sync/")
    assert response.status_code == 302 and len(callbacks) == 1
    entry = AuditEntry.objects.filter(provider=pp.provider, action="mining_account.sync_request").get()
    assert entry.object_id == str(failing.pk) and entry.actor_user_id == pp.owner.pk
    assert "queued" in client.get(pp.base + "fleet/").content.decode()


def test_read_only_staff_cannot_ask_for_a_sync_and_a_paused_account_is_refused(staff):
    pp = staff
    reader = services.user_get_or_create(email="reader@pool.example", password="staff-console-password")
    services.provider_membership_grant(provider=pp.provider, user=reader, role=StaffRole.READ_ONLY)
    c = Client()
    login_verified(c, reader)
    assert c.post(pp.base + f"accounts/{pp.accounts[0].pk}/sync/").status_code == 403
    MiningAccount.objects.filter(pk=pp.accounts[0].pk).update(is_active=False)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="paused"):
        mining_account_sync_request(scope=scope_for_user(pp.owner, provider_slug=pp.provider.slug),
                                    account_id=pp.accounts[0].pk)
    assert not AuditEntry.objects.filter(action="mining_account.sync_request").exists()


def test_alerts_are_listed_acknowledged_once_and_audited(world, client):
    fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=2)
    alert = Alert.objects.filter(provider=world.provider_a).order_by("pk").first()
    login_verified(client, world.alice)
    page = client.get("/p/alpha/alerts/").content.decode()
    assert alert.message in page and page.count(">Acknowledge</button>") == 2
    assert client.post(f"/p/alpha/alerts/{alert.pk}/acknowledge/").status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by_id == world.alice.pk and alert.acknowledged_at is not None
    page = client.get("/p/alpha/alerts/").content.decode()
    assert "taken by alice@alpha.example" in page and page.count(">Acknowledge</button>") == 1
    first = alert.acknowledged_at
    again = alert_acknowledge(scope=world.scope(world.alice, world.provider_a), alert_id=alert.pk,
                              now=DATA_NOW + timedelta(hours=1))
    assert again.acknowledged_at == first
    assert AuditEntry.objects.filter(action="alert.acknowledge", object_id=str(alert.pk)).count() == 1
    unack = client.get("/p/alpha/alerts/rows/?state=unacknowledged").content.decode()
    assert alert.message not in unack and "<!doctype" not in unack


def test_a_cleared_alert_cannot_be_acknowledged_and_read_only_staff_cannot_either(world, client):
    fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=1)
    alert = Alert.objects.get(provider=world.provider_a)
    login_verified(client, world.dave)  # read-only staff
    assert client.post(f"/p/alpha/alerts/{alert.pk}/acknowledge/").status_code == 403
    Alert.objects.filter(pk=alert.pk).update(resolved_at=DATA_NOW)
    login_verified(client, world.alice)
    response = client.post(f"/p/alpha/alerts/{alert.pk}/acknowledge/", follow=True)
    assert "already cleared" in response.content.decode()
    assert Alert.objects.get(pk=alert.pk).acknowledged_at is None


def test_customer_users_and_other_providers_get_404_on_staff_pages(world, client):
    fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=1)
    alert = Alert.objects.get(provider=world.provider_a)
    client.force_login(world.carol)
    for url in ("/p/alpha/fleet/", "/p/alpha/alerts/", "/p/alpha/fleet/hashrate/"):
        assert client.get(url).status_code == 404
    login_verified(client, world.bob)
    assert client.post(f"/p/beta/alerts/{alert.pk}/acknowledge/").status_code == 404
    assert Alert.objects.get(pk=alert.pk).acknowledged_at is None
