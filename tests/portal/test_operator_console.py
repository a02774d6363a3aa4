"""The platform operator console (issue 21): a superuser behind the second factor creates a provider, invites its
owner through the outbox and sets its pool credentials (write-only); everyone else gets a 404; all audited."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tenants.models import AuditEntry, Invitation, OutboundEmail, Provider
from tests.fixtures.access import login_verified
from tests.fixtures.tenancy import PASSWORD

SECRET = "gamma-secret-PLAINTEXT-9"


@pytest.fixture
def operator(db):
    return get_user_model().objects.create_superuser("root@platform.example", "root@platform.example", PASSWORD)


def test_only_a_verified_superuser_reaches_the_console(world, operator, client):
    for user in (world.alice, world.bob, world.carol):  # an owner, another owner, a customer user
        login_verified(client, user)
        assert client.get("/operator/").status_code == 404
        assert client.get("/operator/providers/alpha/").status_code == 404
        assert client.post("/operator/", {"name": "X", "slug": "x", "upstream_base_url": "https://whitebit.com",
                                          "timezone": "UTC"}).status_code == 404
    assert not Provider.objects.filter(slug="x").exists()
    client.logout()
    assert client.get("/operator/").status_code == 302  # anonymous: to the sign-in page
    # A superuser who signed in with the password only is sent to the second factor first.
    client.force_login(operator)
    page = client.get("/operator/")
    assert page.status_code == 302 and page["Location"].startswith("/account/two-factor/")
    assert client.post("/operator/", {"name": "X", "slug": "x", "upstream_base_url": "https://whitebit.com",
                                      "timezone": "UTC"}).status_code == 302
    assert not Provider.objects.filter(slug="x").exists()


def test_create_a_provider_invite_its_owner_and_set_its_credentials(world, operator, client):
    login_verified(client, operator)
    page = client.get("/operator/")
    assert page.status_code == 200 and b"Alpha Hosting" in page.content and b"Beta Hosting" in page.content
    refused = client.post("/operator/", {"name": "Gamma", "slug": "alpha", "upstream_base_url": "https://evil.example",
                                         "timezone": "Mars/Olympus"})
    assert refused.status_code == 400
    text = refused.content.decode()
    assert "The pool URL must be" in text and "not a known time zone" in text and "already exists" in text

    created = client.post("/operator/", {"name": "Gamma Hosting", "slug": "gamma",
                                         "upstream_base_url": "https://whitebit.com", "timezone": "Europe/Kyiv"})
    assert created.status_code == 302 and created["Location"] == "/operator/providers/gamma/"
    gamma = Provider.objects.get(slug="gamma")
    entry = AuditEntry.objects.get(provider=gamma, action="provider.create")
    assert entry.actor_label == "platform operator root@platform.example"

    invited = client.post("/operator/providers/gamma/", {"action": "invite", "email": "Owner@Gamma.example"})
    assert invited.status_code == 302
    invitation = Invitation.objects.get(provider=gamma)
    assert (invitation.email, invitation.role, invitation.customer_id) == ("owner@gamma.example", "owner", None)
    assert OutboundEmail.objects.filter(provider=gamma, recipient="owner@gamma.example").count() == 1
    assert AuditEntry.objects.filter(provider=gamma, action="invitation.create").exists()

    saved = client.post("/operator/providers/gamma/", {"action": "credentials", "api_key": "gamma-key",
                                                       "api_secret": SECRET})
    assert saved.status_code == 302
    gamma.refresh_from_db()
    assert gamma.whitebit_api_key == "gamma-key" and gamma.reveal_api_secret() == SECRET
    page = client.get("/operator/providers/gamma/").content.decode()
    assert SECRET not in page and "stored (hidden)" in page
    entry = AuditEntry.objects.get(provider=gamma, action="provider.credentials_set")
    assert SECRET not in str(entry.changes)
    # Blank keeps the secret; nothing of Alpha's or Beta's changed.
    client.post("/operator/providers/gamma/", {"action": "credentials", "api_key": "", "api_secret": ""})
    gamma.refresh_from_db()
    assert gamma.whitebit_api_key == "gamma-key" and gamma.reveal_api_secret() == SECRET
    world.provider_a.refresh_from_db()
    assert world.provider_a.reveal_api_secret() == "alpha-secret-PLAINTEXT-1"
