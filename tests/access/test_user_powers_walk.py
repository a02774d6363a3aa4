"""The cross-tenant user-powers walk (issue 15): a tenant's staff can never change a user who also belongs elsewhere.

For every action that changes a user (invite, reset second factor, unlock, remove, change role), performed by another
tenant's owner and admin over HTTP, against a user with memberships elsewhere, a platform staff user and a superuser:
the global credentials are refused in words (and the refusal audited), and no row of that user changes. Reproduces
items 1–3 of the issue: on the old main, B's owner added A's users unasked, deleted their authenticator and lifted
their lockout platform-wide.
"""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants import services
from tenants.models import AuditEntry, CustomerMembership, Invitation, ProviderMembership, StaffRole
from tests.fixtures.access import login_verified, totp_device_for
from tests.fixtures.tenancy import PASSWORD

User = get_user_model()


def _snapshot(user) -> dict:
    """Every row of the user that a tenant's action could change."""
    return {
        "user": User.objects.filter(pk=user.pk).values(
            "password", "is_active", "is_staff", "is_superuser", "email", "username").get(),
        "devices": sorted(TOTPDevice.objects.filter(user=user).values_list("pk", "key", "confirmed")),
        "attempts": sorted(
            AccessAttempt.objects.filter(username=user.username).values_list("pk", "failures_since_start")),
        "memberships_elsewhere": sorted(
            list(ProviderMembership.objects.filter(user=user).exclude(provider__slug="beta")
                 .values_list("provider_id", "role"))
            + list(CustomerMembership.objects.filter(user=user).exclude(provider__slug="beta")
                   .values_list("customer_id", "role"))),
        "sessions": Session.objects.count(),
    }


@pytest.fixture
def walk(world, client):
    """Beta's owner (Bob) and a Beta admin; victims that hold a membership at Beta (as if they had accepted)."""
    beta_admin = services.user_get_or_create(email="admin@beta.example", password=PASSWORD)
    services.provider_membership_grant(provider=world.provider_b, user=beta_admin, role=StaffRole.ADMIN)
    platform_staff = services.user_get_or_create(email="ops@platform.example", password=PASSWORD)
    User.objects.filter(pk=platform_staff.pk).update(is_staff=True)
    root = services.user_get_or_create(email="root@platform.example", password=PASSWORD)
    User.objects.filter(pk=root.pk).update(is_staff=True, is_superuser=True)
    # Alice owns provider A; Carol is a customer admin there. Each also joined Beta as an operator.
    victims = {"owner of another provider": world.alice, "customer admin elsewhere": world.carol,
               "platform staff": User.objects.get(pk=platform_staff.pk), "superuser": User.objects.get(pk=root.pk)}
    for victim in victims.values():
        services.provider_membership_grant(provider=world.provider_b, user=victim, role=StaffRole.OPERATOR)
        totp_device_for(victim)
        AccessAttempt.objects.create(username=victim.username, ip_address="203.0.113.9", user_agent="x",
                                     failures_since_start=5)
    return {"attackers": {"owner": world.bob, "admin": beta_admin}, "victims": victims}


@pytest.mark.parametrize("attacker_role", ["owner", "admin"])
@pytest.mark.parametrize("victim_kind", ["owner of another provider", "customer admin elsewhere", "platform staff",
                                         "superuser"])
def test_another_tenants_staff_cannot_change_a_shared_or_platform_user(world, walk, client, attacker_role,
                                                                       victim_kind):
    attacker = walk["attackers"][attacker_role]
    victim = walk["victims"][victim_kind]
    membership = ProviderMembership.objects.get(provider=world.provider_b, user=victim)
    login_verified(client, attacker)
    before = _snapshot(victim)
    refusals_before = AuditEntry.objects.filter(provider=world.provider_b, action__endswith=".refused").count()

    # Reset the second factor: refused in words, the authenticator stays.
    page = client.post(f"/p/beta/team/{membership.pk}/reset-second-factor/", follow=True)
    assert ("also belongs to another organisation" in page.content.decode()
            or "platform administrator" in page.content.decode())
    # Lift the lockout: refused, the failures stay counted.
    page = client.post(f"/p/beta/users/{victim.pk}/unlock/", follow=True)
    assert "platform administrator" in page.content.decode()
    # Invite the address elsewhere: an invitation only, no membership, nothing of the user touched.
    client.post("/p/beta/customers/carol-mining/users/", {"email": victim.email, "role": "admin"})
    assert not CustomerMembership.objects.filter(user=victim, provider=world.provider_b).exists()
    assert Invitation.objects.filter(provider=world.provider_b, email=victim.email).exists()
    # Change the Beta role and remove the Beta membership: Beta's own row, never the user's account or other rows.
    client.post(f"/p/beta/team/{membership.pk}/role/", {"role": "read_only"})
    client.post(f"/p/beta/team/{membership.pk}/remove/")
    # The same actions aimed at the victim's memberships elsewhere are 404s.
    elsewhere = ProviderMembership.objects.filter(user=victim).exclude(provider=world.provider_b).first()
    if elsewhere is not None:
        assert client.post(f"/p/beta/team/{elsewhere.pk}/reset-second-factor/").status_code == 404
        assert client.post(f"/p/beta/team/{elsewhere.pk}/remove/").status_code == 404

    assert _snapshot(victim) == before
    refusals = AuditEntry.objects.filter(provider=world.provider_b, action__endswith=".refused")
    assert refusals.count() == refusals_before + 2
    assert {e.action for e in refusals} == {"user.second_factor_reset.refused", "user.lockout_clear.refused"}
    assert refusals.first().actor_user_id == attacker.pk


def test_a_user_wholly_within_the_tenant_can_still_be_helped(world, client):
    """The rule takes nothing from a provider's own people: a Beta-only operator is reset and unlocked by Beta."""
    own = services.user_get_or_create(email="night@beta.example", password=PASSWORD)
    membership = services.provider_membership_grant(provider=world.provider_b, user=own, role=StaffRole.OPERATOR)
    totp_device_for(own)
    AccessAttempt.objects.create(username=own.username, ip_address="203.0.113.9", user_agent="x",
                                 failures_since_start=5)
    login_verified(client, world.bob)
    assert client.post(f"/p/beta/team/{membership.pk}/reset-second-factor/").status_code == 302
    assert client.post(f"/p/beta/users/{own.pk}/unlock/").status_code == 302
    assert not TOTPDevice.objects.filter(user=own).exists()
    assert not AccessAttempt.objects.filter(username=own.username).exists()
