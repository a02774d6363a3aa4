"""Tenancy fails closed: each user sees exactly their own rows, and everything else is a 404."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from tenants.access import (
    Capability,
    ScopeKind,
    TenantScopeMissing,
    get_in_scope,
    scope_for_system,
    scope_for_user,
    scoped,
    scopes_for_user,
)
from tenants.models import Customer, CustomerMembership, Provider, ProviderMembership
from tests.fixtures.tenancy import PASSWORD


def test_each_user_sees_exactly_their_own_customers(world):
    assert set(scoped(Customer, world.scope(world.alice, world.provider_a))) == {world.customer_a1, world.customer_a2}
    assert set(scoped(Customer, world.scope(world.bob, world.provider_b))) == {world.customer_b1}
    assert set(scoped(Customer, world.scope(world.carol, world.provider_a, world.customer_a1))) == {world.customer_a1}


def test_provider_rows_are_scoped_to_the_callers_provider(world):
    assert list(scoped(Provider, world.scope(world.bob, world.provider_b))) == [world.provider_b]
    carol = world.scope(world.carol, world.provider_a, world.customer_a1)
    assert list(scoped(Provider, carol)) == [world.provider_a]


def test_customer_users_see_no_provider_wide_rows(world):
    carol = world.scope(world.carol, world.provider_a, world.customer_a1)
    assert not scoped(ProviderMembership, carol).exists()
    assert set(scoped(CustomerMembership, carol).values_list("user__username", flat=True)) == {"carol@carol.example"}


def test_a_customers_provider_wide_reader_may_read_and_nothing_else(world):
    """Billing and the alert settings read provider-wide rows for a customer's page (closed months, BTC prices,
    alert rules). The widened scope used to be a SYSTEM scope holding every capability; now it grants VIEW only."""
    carol = world.scope(world.carol, world.provider_a, world.customer_a1)
    reader = carol.provider_wide_reads()
    assert reader.provider_id == world.provider_a.pk and reader.customer_id is None
    assert reader.capabilities == frozenset({Capability.VIEW})
    for capability in set(Capability) - {Capability.VIEW}:
        with pytest.raises(PermissionDenied):
            reader.require(capability)
    assert set(scoped(Customer, reader)) == {world.customer_a1, world.customer_a2}  # reads stay at the provider
    staff = world.scope(world.alice, world.provider_a)
    assert staff.provider_wide_reads() is staff


@pytest.mark.parametrize(
    ("user", "provider", "customer"),
    [
        ("bob", "provider_a", None),  # staff of another provider
        ("carol", "provider_a", None),  # a customer user asking for the staff console
        ("carol", "provider_a", "customer_a2"),  # a sibling customer of the same provider
        ("carol", "provider_b", "customer_b1"),  # same customer slug at another provider
        ("eve", "provider_a", "customer_a1"),
        ("alice", "provider_b", "customer_b1"),
    ],
)
def test_cross_scope_requests_are_404(world, user, provider, customer):
    with pytest.raises(Http404):
        scope_for_user(
            getattr(world, user),
            provider_slug=getattr(world, provider).slug,
            customer_slug=getattr(world, customer).slug if customer else None,
        )


def test_another_tenants_object_is_the_same_404_as_a_missing_one(world):
    bob = world.scope(world.bob, world.provider_b)
    with pytest.raises(Http404) as foreign:
        get_in_scope(Customer, bob, pk=world.customer_a1.pk)
    with pytest.raises(Http404) as missing:
        get_in_scope(Customer, bob, pk=987654321)
    assert str(foreign.value) == str(missing.value)
    # A customer user cannot reach a sibling customer by id either.
    carol = world.scope(world.carol, world.provider_a, world.customer_a1)
    with pytest.raises(Http404):
        get_in_scope(Customer, carol, pk=world.customer_a2.pk)


def test_asking_without_a_scope_raises_instead_of_failing_open(world):
    with pytest.raises(TenantScopeMissing):
        scoped(Customer, None)
    with pytest.raises(TenantScopeMissing):
        get_in_scope(Customer, None, pk=world.customer_a1.pk)
    with pytest.raises(TenantScopeMissing):
        scope_for_system(provider_id=None)


def test_staff_narrowed_to_a_customer_and_system_scope(world):
    narrowed = world.scope(world.alice, world.provider_a, world.customer_a1)
    assert narrowed.kind == ScopeKind.STAFF
    assert list(scoped(Customer, narrowed)) == [world.customer_a1]
    system = scope_for_system(provider_id=world.provider_b.pk)
    assert list(scoped(Customer, system)) == [world.customer_b1]


def test_roles_decide_what_a_member_may_change(world):
    assert world.scope(world.alice, world.provider_a).can(Capability.MANAGE_CREDENTIALS)
    dave = world.scope(world.dave, world.provider_a)
    assert dave.can(Capability.VIEW)
    with pytest.raises(PermissionDenied):
        dave.require(Capability.MANAGE_ACCOUNTS)
    carol = world.scope(world.carol, world.provider_a, world.customer_a1)
    assert carol.can(Capability.MANAGE_WATCHER_LINKS)
    assert not carol.can(Capability.MANAGE_BILLING)
    eve = world.scope(world.eve, world.provider_a, world.customer_a2)
    assert not eve.can(Capability.MANAGE_PAYOUT)


def test_a_user_may_hold_several_memberships(world):
    from tenants import services
    from tenants.models import CustomerRole

    services.customer_membership_grant(customer=world.customer_b1, user=world.carol, role=CustomerRole.VIEWER)
    kinds = {(s.provider_id, s.customer_id) for s in scopes_for_user(world.carol)}
    assert kinds == {(world.provider_a.pk, world.customer_a1.pk), (world.provider_b.pk, world.customer_b1.pk)}


def test_pages_answer_404_across_tenants(world, client):
    from tests.fixtures.access import login_verified

    client.login(username="carol@carol.example", password=PASSWORD)
    assert client.get("/c/alpha/carol-mining/dashboard/").status_code == 200
    assert client.get("/c/alpha/eve-hashing/dashboard/").status_code == 404
    assert client.get("/p/alpha/fleet/").status_code == 404
    assert client.get("/c/beta/carol-mining/dashboard/").status_code == 404
    login_verified(client, world.bob)  # staff pass the second factor first
    assert client.get("/p/alpha/fleet/").status_code == 404
    assert client.get("/c/alpha/carol-mining/dashboard/").status_code == 404
    assert client.get("/p/beta/fleet/").status_code == 200
    page = client.get("/p/beta/customers/")
    assert page.status_code == 200
    assert b"Carol Mining (Beta)" in page.content and b"Eve Hashing" not in page.content


def test_anonymous_users_are_sent_to_sign_in(world, client):
    response = client.get("/p/alpha/fleet/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
