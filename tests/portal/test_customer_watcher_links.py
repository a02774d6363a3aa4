"""Creating watcher links from the customer's page, against the sandbox pool over HTTP: one link per form (double
click, resend after a lost answer), the pool's refusals and the 3-link cap as field errors, the list with its copy
button and the expiry in words; viewers, other customers and outsiders create nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from mining.models import WatcherLink
from mining.services.upstream_writes import mining_account_create, watcher_link_create
from portal.views.customer.links import WatcherLinkForm
from tenants import services
from tenants.access import scope_for_user
from tenants.idempotency import idempotency_claim
from tenants.models import AuditEntry, CustomerRole, IdempotencyRecord
from tests.api.test_upstream_writes import _lose_the_answer, _until, _upstream_links
from tests.fixtures.access import login_verified

PASSWORD = "watcher-links-password-1"
CAP_WORDS = ("This mining account already has the maximum number of active watcher links; wait for one to expire "
             "before creating another.")


@pytest.fixture
def links_world(pool_provider, sandbox_clean):
    pp = pool_provider
    # Links expire on the pool's clock and the page says how long is left on ours: the pool's runs a minute ahead
    # of the wall clock (which cannot go back: the pool refuses older nonces), so a 7-day link has "1 week" left.
    sandbox_clean.set_clock((timezone.now() + timedelta(minutes=1)).replace(microsecond=0))
    accounts = [mining_account_create(scope=pp.scope, name=sandbox_clean.unique_name("wl"), customer_id=pp.customer.pk)
                for _ in range(2)]
    admin = services.user_get_or_create(email="admin@miner.example", password=PASSWORD)
    services.customer_membership_grant(customer=pp.customer, user=admin, role=CustomerRole.ADMIN)
    viewer = services.user_get_or_create(email="viewer@miner.example", password=PASSWORD)
    services.customer_membership_grant(customer=pp.customer, user=viewer, role=CustomerRole.VIEWER)
    return pp, accounts, admin, viewer, f"/c/{pp.provider.slug}/miner-co/watcher-links/"


def _key(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)


def _form(accounts, name="week_view", permissions=("dashboard", "rewards"), live_until="7d", key=""):
    return {"account_ids": [a.pk for a in accounts], "name": name, "permissions": list(permissions),
            "live_until": live_until, "idempotency_key": key}


def test_admin_creates_a_link_once_and_sees_it_with_copy_button_and_expiry(links_world, sandbox_clean, client):
    pp, accounts, admin, _, url = links_world
    login_verified(client, admin)
    page = client.get(url).content.decode()
    assert "The pool allows 3 active links per account and offers no way to revoke one: share links with care; " \
           "a link stays valid until it expires." in page
    assert all(a.name in page for a in accounts) and "No active watcher links." in page
    body = _form(accounts, key=_key(page))
    first = client.post(url, body)
    assert first.status_code == 302
    again = client.post(url, body, follow=True)  # the double click
    assert "was already created" in again.content.decode()
    assert len(_upstream_links(sandbox_clean, accounts[0].name, "week_view")) == 1
    link = WatcherLink.objects.get(provider=pp.provider, name="week_view")
    assert set(link.accounts.all()) == set(accounts) and sorted(link.permissions) == ["dashboard", "rewards"]
    assert link.customer_id == pp.customer.pk and link.created_by_id == admin.pk
    assert AuditEntry.objects.filter(action="watcher_link.create").count() == 1
    listed = client.get(url).content.decode()
    assert f'data-copy="{link.url}"' in listed and "Copy the link week_view" in listed
    assert "in 1\xa0week</time>" in listed  # the expiry in words
    assert _key(listed) != body["idempotency_key"]  # a new form, a new key: another link may be made


def test_refusals_are_field_errors_and_the_cap_of_three(links_world, sandbox_clean, client):
    pp, accounts, admin, _, url = links_world
    login_verified(client, admin)
    key = _key(client.get(url).content.decode())
    bad = client.post(url, {"name": "no spaces", "live_until": "2d", "idempotency_key": key})
    html = bad.content.decode()
    assert bad.status_code == 400
    assert "Choose at least one account." in html and "Choose at least one thing to show." in html
    bad = client.post(url, _form(accounts[:1], name="no spaces", key=key))
    assert "“no spaces” is not a valid link name." in bad.content.decode()
    assert not WatcherLink.objects.exists() and not _upstream_links(sandbox_clean, accounts[0].name, "no spaces")
    assert not IdempotencyRecord.objects.filter(key=key).exists()  # released: the corrected form may use it

    for i in range(3):
        watcher_link_create(scope=pp.scope, account_ids=[accounts[0].pk], name=f"cap_{i}", permissions=["workers"],
                            live_until="1h")
    capped = client.post(url, _form(accounts[:1], name="fourth", key=key))
    assert capped.status_code == 400 and CAP_WORDS in capped.content.decode()
    assert not WatcherLink.objects.filter(name="fourth").exists()
    ok = client.post(url, _form(accounts[1:], name="fourth", key=key))  # the other account still has room
    assert ok.status_code == 302 and WatcherLink.objects.filter(name="fourth").count() == 1


def test_a_resend_after_the_pool_did_not_answer_adopts_the_first_link(links_world, sandbox_clean, client, settings):
    pp, accounts, admin, _, url = links_world
    login_verified(client, admin)
    body = _form(accounts[:1], name="lost_view", key=_key(client.get(url).content.decode()))
    _lose_the_answer(settings, sandbox_clean, "/api/v4/mining/watcher-links/create")
    lost = client.post(url, body)
    assert lost.status_code == 400 and "it will not create a second link" in lost.content.decode()
    assert _key(lost.content.decode()) == body["idempotency_key"]  # the resent form carries the same key
    _until(lambda: _upstream_links(sandbox_clean, accounts[0].name, "lost_view"), "the hung link to land")
    assert client.post(url, body).status_code == 302
    upstream = _upstream_links(sandbox_clean, accounts[0].name, "lost_view")
    assert len(upstream) == 1 and WatcherLink.objects.get(name="lost_view").url == upstream[0]["link"]


def test_viewer_other_customer_and_outsider_create_nothing(links_world, sandbox_clean, client):
    pp, accounts, admin, viewer, url = links_world
    other = services.customer_create(provider=pp.provider, name="Other Co", slug="other-co")
    theirs = mining_account_create(scope=pp.scope, name=sandbox_clean.unique_name("oth"), customer_id=other.pk)
    client.force_login(viewer)
    page = client.get(url).content.decode()
    assert "Create link" not in page and "Your admin can create watcher links." in page
    assert client.post(url, _form(accounts[:1], key="viewer-key-1")).status_code == 403
    login_verified(client, admin)
    assert client.get(f"/c/{pp.provider.slug}/other-co/watcher-links/").status_code == 404
    assert client.post(f"/c/{pp.provider.slug}/other-co/watcher-links/",
                       _form([theirs], key="k-2")).status_code == 404
    mine_theirs = client.post(url, _form([theirs], key="k-3"))  # my URL, their account
    assert mine_theirs.status_code == 400 and "not one of the available choices" in mine_theirs.content.decode()
    assert not WatcherLink.objects.exists()
    assert not _upstream_links(sandbox_clean, theirs.name, "week_view")


def test_a_second_send_while_the_first_is_creating_says_so_and_creates_nothing(links_world, sandbox_clean, client):
    pp, accounts, admin, _, url = links_world
    login_verified(client, admin)
    body = _form(accounts[:1], name="busy_view", key="busy-key-1")
    first = WatcherLinkForm(body, accounts=accounts)
    assert first.is_valid()
    scope = scope_for_user(admin, provider_slug=pp.provider.slug, customer_slug=pp.customer.slug)
    idempotency_claim(scope=scope, key=first.once_key(), method="POST", path=url, body=first.once_body())  # running
    busy = client.post(url, body, follow=True)
    assert "Your watcher link is being created; reload this page in a moment to see it." in busy.content.decode()
    assert not WatcherLink.objects.filter(name="busy_view").exists()
    assert not _upstream_links(sandbox_clean, accounts[0].name, "busy_view")


def test_the_same_form_with_other_values_is_refused_and_gets_a_new_key(links_world, sandbox_clean, client):
    pp, accounts, admin, _, url = links_world
    login_verified(client, admin)
    body = _form(accounts[:1], name="first_view", key=_key(client.get(url).content.decode()))
    assert client.post(url, body).status_code == 302
    other = client.post(url, {**body, "name": "second_view"})
    html = other.content.decode()
    assert other.status_code == 400 and "This form was already sent with other values." in html
    assert _key(html) != body["idempotency_key"]  # the corrected form can be sent as it is
    assert not WatcherLink.objects.filter(name="second_view").exists()
    assert client.post(url, {**body, "name": "second_view", "idempotency_key": _key(html)}).status_code == 302
