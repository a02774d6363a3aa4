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
