"""The alert channel and incident pages (issue 20): staff add a signed webhook and see its secret once, send a
test and read the delivery log; a customer's admin adds its own channel and lists its alerts (open and history);
outsiders get 404 (the isolation walk covers every route; these check the words)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from mining.models import AlertChannel, AlertDelivery, Incident, MiningAccount
from tests.fixtures.access import login_verified
from tests.mining.alert_helpers import deliver_due

pytestmark = pytest.mark.django_db


def test_staff_add_a_webhook_see_the_secret_once_and_test_it(client, world, alert_stub):
    login_verified(client, world.alice)
    response = client.post("/p/alpha/alerts/channels/", {"kind": "webhook", "name": "NOC hook",
                                                          "url": alert_stub.base + "/in"})
    channel = AlertChannel.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/p/alpha/alerts/channels/{channel.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "whsec_" in page and "shown this once" in page
    again = client.get(response["Location"]).content.decode()
    assert "whsec_" not in again and alert_stub.base not in again  # once; and the URL is never rendered
    client.post(f"/p/alpha/alerts/channels/{channel.pk}/test/")
    deliver_due()
    log = client.get(f"/p/alpha/alerts/channels/{channel.pk}/").content.decode()
    assert "Test message from the portal" in log and "200: ok" in log and "Sent" in log
    assert AlertDelivery.objects.get().status == "sent"


def test_field_errors_on_the_form(client, world):
    login_verified(client, world.alice)
    page = client.post("/p/alpha/alerts/channels/", {"kind": "slack", "name": "x", "url": "not a url"})
    assert page.status_code == 200 and "Paste the webhook address" in page.content.decode()
    assert not AlertChannel.objects.exists()


def test_a_read_only_staff_member_sees_but_cannot_add(client, world):
    login_verified(client, world.dave)
    assert "Add a channel" not in client.get("/p/alpha/alerts/channels/").content.decode()
    assert client.post("/p/alpha/alerts/channels/", {"kind": "email", "name": "x",
                                                      "emails": "a@alpha.example"}).status_code == 403


def test_a_customer_admin_adds_its_own_channel_and_sees_its_alerts(client, world):
    client.force_login(world.carol)
    response = client.post("/c/alpha/carol-mining/alerts/channels/", {"kind": "email", "name": "Our ops",
                                                                      "emails": "ops@carol.example"})
    assert response.status_code == 302
    assert AlertChannel.objects.get().customer_id == world.customer_a1.pk
    account = MiningAccount.objects.create(provider=world.provider_a, customer=world.customer_a1, name="acct_004")
    now = timezone.now()
    Incident.objects.create(provider=world.provider_a, customer=world.customer_a1, account=account,
                            kind="worker_offline", group_key="a", summary="3 workers offline on acct_004",
                            members=["worker_001", "worker_003", "worker_007"], opened_at=now - timedelta(minutes=12))
    Incident.objects.create(provider=world.provider_a, customer=world.customer_a1, account=account,
                            kind="worker_offline", group_key="b", summary="1 worker offline on acct_004",
                            members=["worker_002"], opened_at=now - timedelta(days=1),
                            resolved_at=now - timedelta(days=1) + timedelta(minutes=40))
    Incident.objects.create(provider=world.provider_a, customer=world.customer_a2, kind="worker_offline",
                            group_key="c", summary="someone else's", opened_at=now)
    page = client.get("/c/alpha/carol-mining/alerts/").content.decode()
    assert "3 workers offline on acct_004" in page and "worker_001, worker_003, worker_007" in page
    assert "1 worker offline on acct_004" in page and "cleared" in page and "40" in page
    assert "someone else" not in page


def test_another_customer_and_another_provider_get_404(client, world):
    channel = AlertChannel.objects.create(provider=world.provider_a, customer=world.customer_a1, kind="email",
                                          name="carol's", emails=["ops@carol.example"], created_at=timezone.now())
    client.force_login(world.eve)
    assert client.get(f"/c/alpha/eve-hashing/alerts/channels/{channel.pk}/").status_code == 404
    assert client.get(f"/c/alpha/carol-mining/alerts/channels/{channel.pk}/").status_code == 404
    login_verified(client, world.bob)
    assert client.get(f"/p/alpha/alerts/channels/{channel.pk}/").status_code == 404
    assert client.get(f"/p/beta/alerts/channels/{channel.pk}/").status_code == 404
    assert client.post(f"/p/beta/alerts/channels/{channel.pk}/delete/").status_code == 404
    assert AlertChannel.objects.filter(pk=channel.pk).exists()


def test_staff_mute_an_account_from_the_incidents_page(client, world):
    login_verified(client, world.alice)
    account = MiningAccount.objects.create(provider=world.provider_a, customer=world.customer_a1, name="acct_004")
    response = client.post("/p/alpha/alerts/incidents/", {"target": f"account:{account.pk}", "hours": "2",
                                                           "reason": "rewiring"})
    assert response.status_code == 302
    page = client.get("/p/alpha/alerts/incidents/").content.decode()
    assert "account acct_004 until" in page and "rewiring" in page
