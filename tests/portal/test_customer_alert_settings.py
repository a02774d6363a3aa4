"""A customer's alert e-mail settings: the admin sets the contact addresses; viewers read; rules are shown."""

from __future__ import annotations

from mining.models import AlertRule
from tenants.models import AuditEntry, Customer
from tenants.services import customer_membership_grant, user_get_or_create


def test_admin_sets_the_addresses_field_errors_change_nothing(world, client):
    AlertRule.objects.create(provider=world.provider_a, kind="worker_offline", duration_minutes=30)
    AlertRule.objects.create(provider=world.provider_a, customer=world.customer_a2, kind="sync_stale")
    client.force_login(world.carol)
    page = client.get("/c/alpha/carol-mining/alert-settings/").content.decode()
    assert "carol@carol.example" in page and "ops@carol.example" in page
    assert "Worker offline for 30 min" in page and "Sync out of date" not in page  # Eve's rule is not theirs
    bad = client.post("/c/alpha/carol-mining/alert-settings/", {"contact_emails": "ops@carol.example\nnope"})
    assert "“nope” is not an e-mail address." in bad.content.decode()
    assert Customer.objects.get(pk=world.customer_a1.pk).contact_emails == ["ops@carol.example"]
    ok = client.post("/c/alpha/carol-mining/alert-settings/",
                     {"contact_emails": "Night@Carol.example, ops@carol.example, night@carol.example"})
    assert ok.status_code == 302
    assert Customer.objects.get(pk=world.customer_a1.pk).contact_emails == ["night@carol.example",
                                                                            "ops@carol.example"]
    entry = AuditEntry.objects.get(action="customer.contacts_set")
    assert entry.customer_id == world.customer_a1.pk and entry.actor_user_id == world.carol.pk


def test_a_viewer_reads_but_cannot_change_and_another_customer_is_404(world, client):
    viewer = user_get_or_create(email="view@carol.example", password="viewer-password-123")
    customer_membership_grant(customer=world.customer_a1, user=viewer, role="viewer")
    client.force_login(viewer)
    page = client.get("/c/alpha/carol-mining/alert-settings/").content.decode()
    assert "ops@carol.example" in page and "<textarea" not in page
    assert client.post("/c/alpha/carol-mining/alert-settings/", {"contact_emails": "x@y.example"}).status_code == 403
    assert Customer.objects.get(pk=world.customer_a1.pk).contact_emails == ["ops@carol.example"]
    assert client.get("/c/alpha/eve-hashing/alert-settings/").status_code == 404


def test_admin_opts_users_out_of_alert_emails_and_the_alerts_honour_it(world, client,
                                                                       django_capture_on_commit_callbacks):
    from django.core import mail

    from mining.models import AlertKind, AlertRule, MiningAccount
    from tenants.models import CustomerMembership
    from tests.mining.test_alerts import NOW, TH, _evaluate, _sent_to, _series

    night = user_get_or_create(email="night@carol.example", password="night-password-123")
    customer_membership_grant(customer=world.customer_a1, user=night, role="viewer")
    carol_m = CustomerMembership.objects.get(user=world.carol)
    night_m = CustomerMembership.objects.get(user=night)
    eve_m = CustomerMembership.objects.get(user=world.eve)
    client.force_login(world.carol)
    page = client.get("/c/alpha/carol-mining/alert-settings/").content.decode()
    assert f'name="receives" value="{night_m.pk}" checked' in page and "eve@eve.example" not in page
    # Night stays; Carol opts herself out; Eve's membership (another customer) is ignored, not changed.
    response = client.post("/c/alpha/carol-mining/alert-settings/",
                           {"form": "recipients", "receives": [str(night_m.pk), str(eve_m.pk)]})
    assert response.status_code == 302
    assert CustomerMembership.objects.get(pk=carol_m.pk).receives_alert_emails is False
    assert CustomerMembership.objects.get(pk=night_m.pk).receives_alert_emails is True
    assert CustomerMembership.objects.get(pk=eve_m.pk).receives_alert_emails is True
    assert Customer.objects.get(pk=world.customer_a1.pk).contact_emails == ["ops@carol.example"]  # untouched
    client.post("/c/alpha/carol-mining/alert-settings/", {"form": "recipients", "receives": [str(night_m.pk)]})
    entry = AuditEntry.objects.get(action="customer.alert_recipients_set")  # the repeat changed nothing
    assert entry.actor_user_id == world.carol.pk
    assert entry.changes == {"receives_alert_emails": [{"carol@carol.example": True},
                                                       {"carol@carol.example": False}]}

    account = MiningAccount.objects.create(provider=world.provider_a, customer=world.customer_a1, name="carol_site_1",
                                           last_synced_at=NOW)
    AlertRule.objects.create(provider=world.provider_a, customer=world.customer_a1, kind=AlertKind.HASHRATE_FLOOR,
                             floor_hs=500 * TH, duration_minutes=15)
    _series(account, [100, 100, 100, 100])
    assert _evaluate(world, account, django_capture_on_commit_callbacks)["opened"] == 1
    assert sorted(_sent_to(mail.outbox)) == [["alice@alpha.example"], ["night@carol.example"],
                                              ["ops@carol.example"]]  # no carol@: she opted out


def test_a_viewer_cannot_change_who_gets_alert_emails(world, client):
    from tenants.models import CustomerMembership

    client.force_login(world.eve)  # a viewer of Eve Hashing
    page = client.get("/c/alpha/eve-hashing/alert-settings/").content.decode()
    assert 'name="receives"' not in page
    response = client.post("/c/alpha/eve-hashing/alert-settings/", {"form": "recipients", "receives": []})
    assert response.status_code == 403
    assert CustomerMembership.objects.get(user=world.eve).receives_alert_emails is True
    assert not AuditEntry.objects.filter(action="customer.alert_recipients_set").exists()


def test_rules_listed_are_those_watching_accounts_the_customer_holds_now(world, client):
    """A rule on an account that has moved to another customer watches that customer now: not listed here."""
    from mining.models import MiningAccount
    from tests.portal.portal_rows import fleet_rows_add

    own, moved = fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=2)
    MiningAccount.objects.filter(pk=moved.pk).update(customer=world.customer_a2)
    AlertRule.objects.create(provider=world.provider_a, account=own, kind="sync_stale")
    AlertRule.objects.create(provider=world.provider_a, customer=world.customer_a1, account=moved,
                             kind="worker_offline", duration_minutes=45)
    client.force_login(world.carol)
    page = client.get("/c/alpha/carol-mining/alert-settings/").content.decode()
    assert "Sync out of date" in page and own.name in page
    assert "Worker offline for 45 min" not in page and moved.name not in page
