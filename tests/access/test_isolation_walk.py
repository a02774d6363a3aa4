"""Isolation: walk every named route of the URL configuration as an outsider and assert a 404 (or the sign-in
page) and no change in the database, for GET and POST.

Outsiders: Bob, owner at another provider (signed in with his second factor), and Mallory, admin of another
customer of the same provider. Each route's parameters are filled from their names: the victim's slugs, and for
object ids every id the victim's tenant holds; the outsider's own slugs are tried with the victim's ids as well
(the "my URL, your object" attack). A route whose parameters cannot be filled fails this test, so a new route
cannot slip past it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tenants import services
from tenants.models import AuditEntry, CustomerMembership, Invitation, ProviderMembership
from tests.fixtures.access import login_verified

# Routes without a tenant in their URL. They act on the caller's own account, or are public; each is listed here
# on purpose (a new untenanted route fails until someone decides it belongs here).
OWN_ACCOUNT_OR_PUBLIC = {
    "healthz",
    "readyz",
    "login",
    "logout",
    "home",
    "accounts:security",
    "accounts:preferences",
    "accounts:otp_setup",
    "accounts:otp_verify",
    "accounts:recovery_codes",
    "accounts:otp_disable",
    "accounts:sign_out_everywhere",
    "accounts:password_change",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
    "accounts:invitation_accept",
    # A held payout change's e-mailed links: the token is the credential (tests/payouts/ walks them).
    "accounts:payout_change_confirm",
    "accounts:payout_change_cancel_link",
    # Share links (issue 21): public pages, the token is the credential (tests/portal/test_share_links.py).
    "share:page",
    "share:hashrate",
}
# The Django admin is for platform superusers only; test_the_admin_turns_outsiders_away covers it whole.
# The REST API's tenant comes from the token or session, not the URL: tests/api/test_isolation.py walks every
# `api:v1` route the same way (another provider's token and staff session, another customer's token).
# The platform operator console (issue 21) has no tenant and answers 404 to everyone but verified superusers:
# tests/portal/test_operator_console.py walks it.
SKIPPED_NAMESPACES = {"admin", "api", "operator"}
# A provider's white-label assets are public on purpose (its sign-in page shows them before anyone signs in):
# tests/portal/test_white_label.py checks what they serve.
PUBLIC_WITH_TENANT = {"brand_css", "brand_logo", "brand_favicon"}
TENANT_PARAMS = {"provider_slug", "customer_slug"}
OBJECT_PARAMS = {"pk"}
# Parameters that are not tenants nor objects: one fixed value each (a billing month, YYYY-MM).
FIXED_PARAMS = {"period": "2026-10"}


@dataclass(frozen=True)
class Route:
    name: str
    params: frozenset[str]


def _routes(patterns=None, namespace: str = "", inherited: frozenset[str] = frozenset()) -> list[Route]:
    found: list[Route] = []
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        params = inherited | frozenset(p.pattern.regex.groupindex)
        if isinstance(p, URLResolver):
            ns = ":".join(filter(None, [namespace, p.namespace])) if p.namespace else namespace
            if p.namespace in SKIPPED_NAMESPACES:
                continue
            found += _routes(p.url_patterns, ns, params)
        elif isinstance(p, URLPattern):
            if not p.name:
                raise AssertionError(f"An unnamed route ({p.pattern}) cannot be walked: give it a name")
            found.append(Route(f"{namespace}:{p.name}" if namespace else p.name, params))
    return found


def _row_counts() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


@pytest.fixture
def victim_ids(world):
    """Every object id the victim's tenant (provider A, customer A1) holds, for the routes' `pk`."""
    from django.utils import timezone

    alice = world.scope(world.alice, world.provider_a)
    now = timezone.now()
    staff_inv = Invitation.objects.create(
        provider=world.provider_a,
        kind="staff",
        email="p@alpha.example",
        role="operator",
        created_at=now,
        expires_at=now + timezone.timedelta(days=7),
    )
    cust_inv = Invitation.objects.create(
        provider=world.provider_a,
        customer=world.customer_a1,
        kind="customer",
        email="c@carol.example",
        role="viewer",
        created_at=now,
        expires_at=now + timezone.timedelta(days=7),
    )
    viewer = services.user_get_or_create(email="viewer@carol.example", password="x-long-password-1")
    services.customer_membership_grant(customer=world.customer_a1, user=viewer, role="viewer", scope=alice)
    ids = {
        *ProviderMembership.objects.filter(provider=world.provider_a).values_list("pk", flat=True),
        *CustomerMembership.objects.filter(customer=world.customer_a1).values_list("pk", flat=True),
        staff_inv.pk,
        cust_inv.pk,
        *AuditEntry.objects.filter(provider=world.provider_a).values_list("pk", flat=True)[:5],
        world.alice.pk,
        world.dave.pk,
        world.carol.pk,
        viewer.pk,
    }
    # The portal's objects (issue 10): the victim customer's mining accounts, workers, alerts.
    from mining.models import Alert, Worker
    from tests.portal.portal_rows import fleet_rows_add

    accounts = fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=2)
    ids |= {a.pk for a in accounts}
    ids |= set(Worker.objects.filter(account__in=accounts).values_list("pk", flat=True))
    ids |= set(Alert.objects.filter(account__in=accounts).values_list("pk", flat=True))
    from mining.models import AlertRule

    rule = AlertRule.objects.create(provider=world.provider_a, customer=world.customer_a1, kind="worker_offline")
    ids.add(rule.pk)
    from tests.portal.statements_world import victim_export_jobs

    ids |= victim_export_jobs(world)  # statements: the victim's closed October 2026 and its export jobs
    # Billing set-up (issue 10): a later contract version of the victim customer (its edit page takes the pk),
    # starting after the closed October so the service accepts it at any clock.
    from billing.services.contracts import ContractTerms, contract_version_create

    version = contract_version_create(scope=alice, customer_id=world.customer_a1.pk, effective_from=date(2026, 11, 1),
                                      terms=ContractTerms(revenue_share_bps=2000), now=now)
    ids.add(version.pk)
    from mining.models import Label

    ids.add(Label.objects.create(provider=world.provider_a, kind="site", name="Victim site").pk)
    # A held payout change of the victim customer (issue 15): its cancel routes take the pk.
    from mining.models import PayoutChange

    ids.add(PayoutChange.objects.create(
        provider=world.provider_a, customer=world.customer_a1, account=accounts[0], destination="main_balance",
        requested_by_label="carol", requested_at=now, status="held", due_at=now + timezone.timedelta(days=1)).pk)
    # A share link of the victim customer (issue 21): its revoke route takes the pk.
    from mining.services.share_links import share_link_create

    ids.add(share_link_create(scope=world.scope(world.carol, world.provider_a, world.customer_a1),
                              customer_id=world.customer_a1.pk, name="victim", account_ids=[accounts[0].pk],
                              level="rewards", lifetime="7d").link.pk)
    return sorted(ids)


def _own_ids(*, provider_id: int, customer_id: int | None) -> set[int]:
    """Ids of the outsider's own tenant's objects: with their own slugs these are theirs to use, so the "my URL,
    your object" combinations leave them out (ids of different tables can coincide)."""
    memberships = CustomerMembership.objects.filter(provider_id=provider_id)
    invitations = Invitation.objects.filter(provider_id=provider_id)
    if customer_id is not None:
        memberships, invitations = (
            memberships.filter(customer_id=customer_id),
            invitations.filter(customer_id=customer_id),
        )
    staff = (
        ProviderMembership.objects.filter(provider_id=provider_id)
        if customer_id is None
        else ProviderMembership.objects.none()
    )
    ids = set(memberships.values_list("pk", flat=True)) | set(memberships.values_list("user_id", flat=True))
    ids |= set(staff.values_list("pk", flat=True)) | set(staff.values_list("user_id", flat=True))
    ids |= set(invitations.values_list("pk", flat=True))
    return ids


def _kwarg_sets(
    route: Route, *, victim: dict, own: dict, ids: list[int], own_ids: set[int] = frozenset()
) -> list[dict]:
    unknown = route.params - TENANT_PARAMS - OBJECT_PARAMS - FIXED_PARAMS.keys()
    if unknown:
        raise AssertionError(f"{route.name}: the isolation walk cannot fill {sorted(unknown)}; teach it (this test)")
    sets = []
    for slugs, needs_object in ((victim, False), (own, True)):
        if needs_object and not (route.params & OBJECT_PARAMS):
            continue  # the outsider's own page without a foreign object is theirs to see
        base = {k: v for k, v in {**slugs, **FIXED_PARAMS}.items() if k in route.params}
        if "customer_slug" in route.params and "customer_slug" not in slugs:
            continue
        if route.params & OBJECT_PARAMS:
            sets += [{**base, "pk": i} for i in ids if not (needs_object and i in own_ids)]
        else:
            sets.append(base)
    return sets


def _assert_refused(response, route: Route, kwargs: dict, method: str) -> None:
    ok = (
        response.status_code == 404
        or (response.status_code == 302 and response["Location"].startswith("/login/"))
        or (route.name.startswith("api") and response.status_code == 403)
    )
    assert ok, f"{method} {route.name} {kwargs} answered {response.status_code} to an outsider"


def _walk(client: Client, *, victim: dict, own: dict, ids: list[int], own_ids: set[int]) -> int:
    requests = 0
    for route in _routes():
        if route.name in OWN_ACCOUNT_OR_PUBLIC:
            assert not route.params & TENANT_PARAMS, f"{route.name} has a tenant in its URL: walk it"
            continue
        if route.name in PUBLIC_WITH_TENANT:
            continue
        if not route.params & TENANT_PARAMS:
            raise AssertionError(f"{route.name} has no tenant in its URL: list it in OWN_ACCOUNT_OR_PUBLIC or scope it")
        for kwargs in _kwarg_sets(route, victim=victim, own=own, ids=ids, own_ids=own_ids):
            url = reverse(route.name, kwargs=kwargs)
            _assert_refused(client.get(url), route, kwargs, "GET")
            _assert_refused(client.post(url, {"email": "x@evil.example", "role": "owner"}), route, kwargs, "POST")
            requests += 2
    return requests


def test_another_providers_owner_gets_404_everywhere_and_changes_nothing(world, victim_ids):
    client = Client()
    login_verified(client, world.bob)
    before = _row_counts()
    requests = _walk(
        client,
        victim={"provider_slug": "alpha", "customer_slug": "carol-mining"},
        own={"provider_slug": "beta", "customer_slug": "carol-mining"},
        ids=victim_ids,
        own_ids=_own_ids(provider_id=world.provider_b.pk, customer_id=None),
    )
    assert requests > 100
    assert _row_counts() == before


def test_another_customers_admin_gets_404_everywhere_and_changes_nothing(world, victim_ids):
    mallory = services.user_get_or_create(email="mallory@eve.example", password="x-long-password-1")
    services.customer_membership_grant(customer=world.customer_a2, user=mallory, role="admin")
    client = Client()
    client.force_login(mallory)
    before = _row_counts()
    _walk(
        client,
        victim={"provider_slug": "alpha", "customer_slug": "carol-mining"},
        own={"provider_slug": "alpha", "customer_slug": "eve-hashing"},
        ids=victim_ids,
        own_ids=_own_ids(provider_id=world.provider_a.pk, customer_id=world.customer_a2.pk),
    )
    assert _row_counts() == before


def test_the_walk_sees_every_route_and_fails_on_one_it_cannot_fill(world):
    names = {r.name for r in _routes()}
    assert {"staff:team", "staff:audit_log", "customer:team", "customer:audit_log", "provider_home"} <= names
    assert {"staff:fleet", "staff:account_sync", "staff:alert_ack", "customer:dashboard", "customer:workers",
            "customer:worker_detail", "customer:rewards_csv", "customer:watcher_links", "customer:share_links",
            "customer:share_link_revoke"} <= names
    with pytest.raises(AssertionError, match="cannot fill"):
        _kwarg_sets(Route("staff:new_thing", frozenset({"provider_slug", "statement_id"})), victim={}, own={}, ids=[])


def test_the_admin_turns_outsiders_away(world):
    client = Client()
    login_verified(client, world.bob)  # staff with a second factor, but not a platform administrator
    for path in (
        "/admin/",
        "/admin/tenants/provider/",
        f"/admin/tenants/provider/{world.provider_a.pk}/change/",
        "/admin/tenants/auditentry/",
    ):
        page = client.get(path)
        assert page.status_code == 302 and page["Location"].startswith("/admin/login/"), path
