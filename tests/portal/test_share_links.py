"""Share links (issue 21): a link's life (create, URL shown once, views counted, revoke → 404, expired → 404, wrong
token → 404), its scope (an unshared account is never visible, nor another customer's), its levels, `noindex`, the
audit entries, and the rate limit enforced in Redis across clients, at a fixed clock."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client

from billing.services.closing import billing_month_close
from billing.services.contracts import ContractTerms, contract_version_create
from mining.models import ShareLink, Worker
from mining.services.share_links import share_link_create, share_token_hash
from tenants.access import scope_for_system
from tenants.models import AuditEntry
from tests.billing.factories import account_make, reward_make
from tests.fixtures.access import login_verified
from tests.portal.portal_rows import fleet_rows_add

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def shared(world, clock):
    """Carol's two accounts (one to share, one not) and Eve's account (another customer of the same provider)."""
    mine, private = fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=2, now=NOW)
    (other,) = fleet_rows_add(provider=world.provider_a, customer=world.customer_a2, n=1, now=NOW)
    return world, mine, private, other


def _url(world, tail: str = "") -> str:
    return f"/c/{world.provider_a.slug}/{world.customer_a1.slug}/share-links/{tail}"


def _create(client, world, accounts, level="workers", lifetime="7d", name="Investor Q4"):
    return client.post(_url(world), {"name": name, "account_ids": [a.pk for a in accounts], "level": level,
                                     "lifetime": lifetime})


def _token_from(html: str) -> str:
    return re.search(r'id="share-url">https?://[^/]+/s/([A-Za-z0-9_-]+)/<', html).group(1)


def _fresh_ip() -> str:
    """An address of its own per run: the rate counts live in Redis for two real minutes, past a re-run."""
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


def _visitor(ip: str = "") -> Client:
    return Client(REMOTE_ADDR=ip or _fresh_ip())


def test_a_links_life_create_shown_once_counted_revoked(shared, client):
    world, mine, private, other = shared
    login_verified(client, world.carol)
    created = _create(client, world, [mine])
    assert created.status_code == 201
    html = created.content.decode()
    token = _token_from(html)
    assert "This is the only time the link is shown" in html
    link = ShareLink.objects.get()
    assert link.token_hash == share_token_hash(token) and token not in str(ShareLink.objects.values().get())
    assert link.expires_at == NOW + timedelta(days=7)
    listing = client.get(_url(world)).content.decode()
    assert token not in listing and "Investor Q4" in listing and "never" in listing  # not viewed yet

    visitor = _visitor()
    page = visitor.get(f"/s/{token}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert page["X-Robots-Tag"].startswith("noindex") and '<meta name="robots" content="noindex' in body
    assert page["Referrer-Policy"] == "no-referrer" and page["Cache-Control"] == "no-store"
    assert mine.name in body and "Carol Mining" in body
    assert private.name not in body and other.name not in body  # never an unshared account, nor Eve's
    worker = Worker.objects.get(account=mine)
    assert f"{mine.name}.{worker.name}" in body  # level "workers": the workers table
    assert "Closed months" not in body and "Rewards" not in body  # but not the rewards
    assert visitor.get(f"/s/{token}/hashrate/").status_code == 200  # the chart card for htmx: not a view
    visitor.get(f"/s/{token}/")
    link.refresh_from_db()
    assert link.view_count == 2 and link.last_viewed_at == NOW
    listing = client.get(_url(world)).content.decode()
    assert re.search(r'<td class="num">2</td>', listing)

    revoke = client.post(_url(world, f"{link.pk}/revoke/"), follow=True)
    assert "Revoked the share link “Investor Q4”" in revoke.content.decode()
    gone = visitor.get(f"/s/{token}/")
    assert gone.status_code == 404 and gone["X-Robots-Tag"].startswith("noindex")
    assert visitor.get(f"/s/{token}/hashrate/").status_code == 404
    link.refresh_from_db()
    assert link.view_count == 2 and link.revoked_at == NOW
    actions = list(AuditEntry.objects.filter(object_type="mining.sharelink").values_list("action", flat=True)
                   .order_by("pk"))
    assert actions == ["share_link.create", "share_link.revoke"]
    client.post(_url(world, f"{link.pk}/revoke/"))  # revoking twice writes nothing more
    assert AuditEntry.objects.filter(object_type="mining.sharelink").count() == 2


def test_expired_and_wrong_tokens_are_404(shared, clock):
    world, mine, _, _ = shared
    scope = world.scope(world.carol, world.provider_a, world.customer_a1)
    made = share_link_create(scope=scope, customer_id=world.customer_a1.pk, name="day", account_ids=[mine.pk],
                             level="hashrate", lifetime="1d")
    visitor = _visitor()
    assert visitor.get(f"/s/{made.token}/").status_code == 200
    for wrong in (made.token[:-1], made.token[:-1] + ("A" if made.token[-1] != "A" else "B"), "x", "a" * 43,
                  share_token_hash(made.token)):
        page = visitor.get(f"/s/{wrong}/")
        assert page.status_code == 404 and "does not exist, has expired or was revoked" in page.content.decode()
    clock.move_to(NOW + timedelta(days=1))  # the expiry instant itself is past
    assert visitor.get(f"/s/{made.token}/").status_code == 404
    assert ShareLink.objects.get().view_count == 1
    expired = Client()
    login_verified(expired, world.carol)
    assert "Expired 2026-11-21" in expired.get(_url(world)).content.decode()


def test_scope_another_customers_account_cannot_be_shared_and_a_moved_one_disappears(shared):
    world, mine, private, other = shared
    scope = world.scope(world.carol, world.provider_a, world.customer_a1)
    with pytest.raises(Http404):
        share_link_create(scope=scope, customer_id=world.customer_a1.pk, name="x", account_ids=[mine.pk, other.pk],
                          level="hashrate", lifetime="7d")
    eve = world.scope(world.eve, world.provider_a, world.customer_a2)
    with pytest.raises(PermissionDenied):  # a viewer creates nothing
        share_link_create(scope=eve, customer_id=world.customer_a2.pk, name="x", account_ids=[other.pk],
                          level="hashrate", lifetime="7d")
    with pytest.raises(Http404):  # Carol cannot make a link for Eve's customer
        share_link_create(scope=scope, customer_id=world.customer_a2.pk, name="x", account_ids=[other.pk],
                          level="hashrate", lifetime="7d")
    made = share_link_create(scope=scope, customer_id=world.customer_a1.pk, name="both",
                             account_ids=[mine.pk, private.pk], level="workers", lifetime="7d")
    visitor = _visitor()
    assert private.name in visitor.get(f"/s/{made.token}/").content.decode()
    # The account moves to Eve's customer (the sync's denormalised rows with it): the link stops showing it.
    for model in (type(private), Worker):
        model.objects.filter(**({"pk": private.pk} if model is not Worker else {"account": private})).update(
            customer=world.customer_a2)
    body = visitor.get(f"/s/{made.token}/").content.decode()
    assert private.name not in body and mine.name in body
    assert ShareLink.objects.count() == 1 and AuditEntry.objects.filter(action="share_link.create").count() == 1


def test_rewards_level_shows_only_the_shared_accounts_rewards_and_billed_lines(world, clock):
    system = scope_for_system(provider_id=world.provider_a.pk, actor="test")
    contract_version_create(scope=system, customer_id=world.customer_a1.pk, effective_from=date(2026, 10, 1),
                            now=NOW, terms=ContractTerms(revenue_share_bps=2000))
    shared_acct = account_make(world.provider_a, world.customer_a1, name="sharedacct")
    hidden = account_make(world.provider_a, world.customer_a1, name="hiddenacct")
    reward_make(shared_acct, date(2026, 10, 1), 100_000)
    reward_make(shared_acct, date(2026, 10, 2), 200_000)
    reward_make(hidden, date(2026, 10, 1), 777_777)
    billing_month_close(scope=system, period=date(2026, 10, 1), now=NOW)
    scope = world.scope(world.carol, world.provider_a, world.customer_a1)
    made = share_link_create(scope=scope, customer_id=world.customer_a1.pk, name="all", account_ids=[shared_acct.pk],
                             level="rewards", lifetime="30d")
    body = _visitor().get(f"/s/{made.token}/").content.decode()
    assert "sharedacct" in body and "hiddenacct" not in body
    assert "0.00300000" in body  # October's net of the shared account: 100 000 + 200 000 sats
    assert "0.00777777" not in body and "0.01077777" not in body  # neither the hidden account nor the total
    assert "2026-10" in body and "0.00240000" in body  # its customer share (80 %)


def test_the_rate_limit_is_enforced_across_clients_and_resets_with_the_window(shared, settings):
    world, mine, _, _ = shared
    settings.SHARE_PAGE_RATE_PER_MINUTE = 3
    scope = world.scope(world.carol, world.provider_a, world.customer_a1)
    made = share_link_create(scope=scope, customer_id=world.customer_a1.pk, name="rl", account_ids=[mine.pk],
                             level="hashrate", lifetime="7d")
    with time_machine.travel(datetime(2026, 11, 20, 12, 30, 5, tzinfo=UTC), tick=False) as t:
        ip = _fresh_ip()
        assert [_visitor(ip).get(f"/s/{made.token}/").status_code for _ in range(3)] == [200, 200, 200]
        refused = _visitor(ip).get(f"/s/{made.token}/")  # a fresh client (another process would do the same)
        assert refused.status_code == 429 and refused["Retry-After"] == "55"
        assert refused["X-Robots-Tag"].startswith("noindex")
        assert _visitor(ip).get("/s/guessed-token/").status_code == 429  # guessing is counted too
        assert _visitor().get(f"/s/{made.token}/").status_code == 200  # another address
        assert ShareLink.objects.get().view_count == 4  # refused visits are not views
        t.move_to(datetime(2026, 11, 20, 12, 31, 0, tzinfo=UTC))
        assert _visitor(ip).get(f"/s/{made.token}/").status_code == 200
