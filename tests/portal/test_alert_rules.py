"""Alert rules from the console: field errors that write nothing, a floor in TH/s stored exactly in H/s, on / off."""

from __future__ import annotations

from decimal import Decimal

from mining.models import AlertRule
from tenants.models import AuditEntry
from tests.fixtures.access import login_verified
from tests.portal.portal_rows import fleet_rows_add


def test_a_rule_is_checked_field_by_field_then_created_exactly_and_audited(world, client):
    [account] = fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=1)
    login_verified(client, world.alice)
    before = AuditEntry.objects.count()
    page = client.post("/p/alpha/alerts/rules/", {"kind": "hashrate_floor", "duration_minutes": 15}).content.decode()
    assert "A floor needs a hashrate above zero." in page
    page = client.post("/p/alpha/alerts/rules/", {"kind": "hashrate_floor", "floor_ths": "90",
                                                  "customer_id": world.customer_a2.pk, "account_id": account.pk,
                                                  "duration_minutes": 15}).content.decode()
    assert f"{account.name} is not held by Eve Hashing." in page
    assert not AlertRule.objects.exists() and AuditEntry.objects.count() == before
    done = client.post("/p/alpha/alerts/rules/", {"kind": "hashrate_floor", "floor_ths": "90.5",
                                                  "account_id": account.pk, "duration_minutes": 20,
                                                  "notify_customer": "on"})
    assert done.status_code == 302
    rule = AlertRule.objects.get()
    assert rule.floor_hs == Decimal("90500000000000") and rule.customer_id == world.customer_a1.pk
    assert rule.duration_minutes == 20 and rule.notify_customer and rule.drop_bps is None
    drop = client.post("/p/alpha/alerts/rules/", {"kind": "hashrate_drop", "drop_percent": "70",
                                                  "customer_id": world.customer_a1.pk, "duration_minutes": 15})
    assert drop.status_code == 302 and AlertRule.objects.get(kind="hashrate_drop").drop_bps == 7000
    page = client.get("/p/alpha/alerts/rules/").content.decode()
    assert "90.50 TH/s" in page and "a drop of 70.00 % from the 24 h mean" in page
    assert AuditEntry.objects.filter(action="alert_rule.create").count() == 2


def test_a_rule_is_turned_off_and_on_and_read_only_staff_cannot(world, client):
    login_verified(client, world.alice)
    client.post("/p/alpha/alerts/rules/", {"kind": "worker_offline", "duration_minutes": 30})
    rule = AlertRule.objects.get()
    client.post(f"/p/alpha/alerts/rules/{rule.pk}/toggle/", {"enabled": "0"})
    assert not AlertRule.objects.get().is_enabled
    assert AuditEntry.objects.filter(action="alert_rule.disable").count() == 1
    login_verified(client, world.dave)
    assert client.post(f"/p/alpha/alerts/rules/{rule.pk}/toggle/", {"enabled": "1"}).status_code == 403
    assert client.post("/p/alpha/alerts/rules/", {"kind": "worker_offline", "duration_minutes": 5}).status_code == 403
    assert "Add rule" not in client.get("/p/alpha/alerts/rules/").content.decode()
    assert AlertRule.objects.count() == 1 and not AlertRule.objects.get().is_enabled
    login_verified(client, world.bob)
    assert client.post(f"/p/beta/alerts/rules/{rule.pk}/toggle/", {"enabled": "1"}).status_code == 404
