"""Sending the stratum hand-over to the customer's contacts through the outbox (issue 21): once per content,
however often clicked; in the provider's brand; refused in words without a contact; not for read-only staff."""

from __future__ import annotations

from django.core import mail

from tenants import services
from tenants.models import AuditEntry, OutboundEmail, StaffRole
from tenants.services.brand import provider_brand_set
from tenants.tasks import email_send_task
from tests.access.helpers import run_task
from tests.fixtures.access import login_verified


def _staff(pp, client, role=StaffRole.OWNER, email="owner@pool.example"):
    user = services.user_get_or_create(email=email, password="handover-staff-password-1")
    services.provider_membership_grant(provider=pp.provider, user=user, role=role)
    login_verified(client, user)
    return user


def test_the_hand_over_is_emailed_once_on_a_double_click_in_the_brand(pool_provider, client):
    pp = pool_provider
    user = _staff(pp, client)
    provider_brand_set(scope=pp.scope, display_name="Pool Cloud", support_email="help@pool.example")
    base, account = f"/p/{pp.provider.slug}", pp.accounts[0]
    page = client.get(f"{base}/accounts/{account.pk}/connect/").content.decode()
    assert "E-mail it to Miner Co" in page and "ops@miner.example" in page
    first = client.post(f"{base}/accounts/{account.pk}/connect/send/", follow=True)
    second = client.post(f"{base}/accounts/{account.pk}/connect/send/", follow=True)
    assert "Sent the connection details to ops@miner.example." in first.content.decode()
    assert "already sent to every contact; nothing was sent again" in second.content.decode()
    rows = OutboundEmail.objects.filter(provider=pp.provider, dedupe_key__startswith=f"handover:{account.pk}:")
    assert rows.count() == 1
    row = rows.get()
    assert row.recipient == "ops@miner.example" and row.customer_id == pp.customer.pk
    assert AuditEntry.objects.filter(action="mining_account.handover_send", actor_user=user).count() == 1
    run_task(email_send_task, row.pk)
    (message,) = [m for m in mail.outbox if m.to == ["ops@miner.example"]]
    assert message.subject == f"Pool Cloud: connecting your miners (account {account.name})"
    assert message.from_email.startswith("Pool Cloud <")
    assert "stratum+tcp://" in message.body and f"Worker (user): {account.name}." in message.body
    assert "help@pool.example" in message.body


def test_without_a_contact_it_says_so_and_read_only_staff_cannot_send(pool_provider, client):
    pp = pool_provider
    _staff(pp, client)
    base, account = f"/p/{pp.provider.slug}", pp.accounts[0]
    pp.customer.contact_emails = []
    pp.customer.save(update_fields=["contact_emails"])
    page = client.post(f"{base}/accounts/{account.pk}/connect/send/", follow=True).content.decode()
    assert "Miner Co has no contact e-mail address" in page
    assert not OutboundEmail.objects.filter(dedupe_key__startswith="handover:").exists()
    _staff(pp, client, role=StaffRole.READ_ONLY, email="reader@pool.example")
    assert "E-mail it to" not in client.get(f"{base}/accounts/{account.pk}/connect/").content.decode()
    assert client.post(f"{base}/accounts/{account.pk}/connect/send/").status_code == 403
