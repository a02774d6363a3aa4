"""Onboarding in one flow against the sandbox pool over HTTP: customer → account created on the pool (once per form,
also on a double submit or after a lost answer) → stratum hand-over from the pool → payout destination."""

from __future__ import annotations

import re
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.services.payouts import payout_change_apply
from mining.models import MiningAccount, PayoutChange
from mining.services.upstream_writes import mining_account_create
from tenants import services
from tenants.access import scope_for_user
from tenants.idempotency import idempotency_claim
from tenants.models import AuditEntry, Customer, IdempotencyRecord, StaffRole
from tests.fixtures.access import login_verified, totp_code, totp_device_for

VALID_BTC = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
PASSWORD = "onboarding-staff-password-1"


def _upstream_accounts(sandbox, name):
    return [a for a in sandbox.post("/api/v4/mining/accounts", {"name": name}).json()["data"] if a["name"] == name]


def _staff(pp, client, role=StaffRole.OWNER, email="owner@pool.example"):
    user = services.user_get_or_create(email=email, password=PASSWORD)
    services.provider_membership_grant(provider=pp.provider, user=user, role=role)
    login_verified(client, user)
    return user


def _form_key(page: str) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)


def _account_form(client, pp, customer_slug="miner-co"):
    page = client.get(f"/p/{pp.provider.slug}/onboard/{customer_slug}/account/")
    assert page.status_code == 200
    return f"/p/{pp.provider.slug}/onboard/{customer_slug}/account/", _form_key(page.content.decode())


def _until(condition, what):
    deadline = time.monotonic() + 15
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_happy_path_end_to_end(pool_provider, sandbox_clean, client):
    pp = pool_provider
    owner = _staff(pp, client)
    base = f"/p/{pp.provider.slug}"
    start = client.get(f"{base}/onboard/").content.decode()
    assert "Mining account" in start and "Connect the miners" in start and 'aria-current="step"' in start
    assert "Miner Co" in start  # existing customers to pick from

    made = client.post(f"{base}/onboard/", {"action": "create", "new-name": "Fjord Hash", "new-slug": "fjord-hash",
                                            "new-contact_emails": "ops@fjord.example"})
    assert made.status_code == 302 and made["Location"] == f"{base}/onboard/fjord-hash/account/"
    customer = Customer.objects.get(provider=pp.provider, slug="fjord-hash")

    url, key = _account_form(client, pp, "fjord-hash")
    name = sandbox_clean.unique_name("onb")
    created = client.post(url, {"name": name, "label": "Site A, S19j", "idempotency_key": key})
    account = MiningAccount.objects.get(provider=pp.provider, name=name)
    assert created.status_code == 302 and created["Location"] == f"{base}/accounts/{account.pk}/connect/?onboarding=1"
    assert account.customer_id == customer.pk and account.label == "Site A, S19j"
    assert len(_upstream_accounts(sandbox_clean, name)) == 1
    assert [s["url"] for s in account.stratum_urls] == ["stratum+tcp://pool.whitebit.com:3333",
                                                        "stratum+tcp://pool.whitebit.com:3334"]  # read at once

    handover = client.get(created["Location"]).content.decode()
    assert "stratum+tcp://pool.whitebit.com:3333" in handover and "stratum+tcp://pool.whitebit.com:3334" in handover
    assert f"{name}.rack01_s19" in handover and "Password" in handover and 'data-copy-from="stratum-1"' in handover
    assert "Next: payout destination" in handover and "is created" in handover

    payout_url = f"{base}/accounts/{account.pk}/payout/?onboarding=1"
    form = client.get(payout_url).content.decode()
    assert "Skip: set it later" in form
    assert 'name="code"' in form  # issue 15: a payout change asks for a fresh code and is held
    done = client.post(payout_url, {"destination": "external_address", "address": VALID_BTC,
                                    "customer_owns_address": "on", "code": totp_code(totp_device_for(owner))})
    assert done.status_code == 302 and done["Location"] == f"{base}/customers/fjord-hash/"
    change = PayoutChange.objects.get(account=account)
    assert change.status == "held" and change.address == VALID_BTC
    detail = client.get(done["Location"]).content.decode()
    assert name in detail and "Connection details" in detail and f"Held: {name} will be paid to" in detail
    # When the hold ends the task sends it (tests/payouts/ move the clock; here the service is told the time).
    assert payout_change_apply(provider_id=pp.provider.pk, change_id=change.pk, now=change.due_at) == "applied"
    account.refresh_from_db()
    assert (account.payout_destination, account.payout_address) == ("external_address", VALID_BTC)
    upstream = sandbox_clean.post("/api/v4/mining/payout-destination", {"accountName": name}).json()
    assert upstream == {"payoutDestination": "external_address", "externalAddress": VALID_BTC}

    actions = set(AuditEntry.objects.filter(provider=pp.provider, actor_user=owner).values_list("action", flat=True))
    assert {"customer.create", "mining_account.create", "payout_change.request"} <= actions


def test_invalid_name_is_a_field_error_and_nothing_is_created(pool_provider, sandbox_clean, client):
    pp = pool_provider
    _staff(pp, client)
    url, key = _account_form(client, pp)
    before = MiningAccount.objects.count()
    page = client.post(url, {"name": "no spaces-allowed", "label": "", "idempotency_key": key}).content.decode()
    assert "is not a valid mining account name" in page and "letters, digits and underscores" in page
    assert MiningAccount.objects.count() == before and not IdempotencyRecord.objects.filter(key=key).exists()
    assert not _upstream_accounts(sandbox_clean, "no spaces-allowed")
    assert f'value="{key}"' in page  # the corrected form is the same request: same key


def test_name_taken_upstream_is_a_field_error_and_the_key_can_be_used_again(pool_provider, sandbox_clean, client):
    pp = pool_provider
    _staff(pp, client)
    taken = sandbox_clean.unique_name("taken")
    sandbox_clean.post("/api/v4/mining/accounts/create", {"name": taken})  # made outside the portal
    url, key = _account_form(client, pp)
    page = client.post(url, {"name": taken, "label": "", "idempotency_key": key}).content.decode()
    assert "That mining account name is already taken on WhiteBIT; choose another." in page
    assert not MiningAccount.objects.filter(name=taken).exists()
    fresh = sandbox_clean.unique_name("fresh")
    again = client.post(url, {"name": fresh, "label": "", "idempotency_key": key})
    assert again.status_code == 302 and MiningAccount.objects.filter(name=fresh).count() == 1


def test_double_post_with_the_same_key_makes_one_account(pool_provider, sandbox_clean, client):
    pp = pool_provider
    _staff(pp, client)
    url, key = _account_form(client, pp)
    name = sandbox_clean.unique_name("dbl")
    first = client.post(url, {"name": name, "label": "", "idempotency_key": key})
    second = client.post(url, {"name": name, "label": "", "idempotency_key": key})
    assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]
    assert MiningAccount.objects.filter(provider=pp.provider, name=name).count() == 1
    assert len(_upstream_accounts(sandbox_clean, name)) == 1
    assert AuditEntry.objects.filter(provider=pp.provider, action="mining_account.create",
                                     object_id=str(MiningAccount.objects.get(name=name).pk)).count() == 1
    # Back, edit, resend:
    other = client.post(url, {"name": name + "_b", "label": "", "idempotency_key": key}).content.decode()
    assert "already sent with other values" in other and _form_key(other) != key
    assert not MiningAccount.objects.filter(name=name + "_b").exists()


def test_a_concurrent_submit_says_it_is_already_being_created(pool_provider, sandbox_clean, client, settings):
    pp = pool_provider
    settings.ONBOARDING_CONCURRENT_WAIT_S = 0.3
    owner = _staff(pp, client)
    url, key = _account_form(client, pp)
    name = sandbox_clean.unique_name("busy")
    body = {"name": name, "label": "", "customer_id": pp.customer.pk}
    scope = scope_for_user(owner, provider_slug=pp.provider.slug)
    idempotency_claim(scope=scope, key=key, method="POST", path=url, body=body)  # the first click, still running
    page = client.post(url, {"name": name, "label": "", "idempotency_key": key})
    assert page.status_code == 409 and "is already being created" in page.content.decode()
    assert not _upstream_accounts(sandbox_clean, name) and not MiningAccount.objects.filter(name=name).exists()


def test_a_lost_answer_then_the_retry_finds_the_account_the_first_try_made(pool_provider, sandbox_clean, client,
                                                                          settings):
    pp = pool_provider
    _staff(pp, client)
    url, key = _account_form(client, pp)
    name = sandbox_clean.unique_name("lost")
    settings.WHITEBIT_TIMEOUT_S, settings.WHITEBIT_MAX_RETRIES = 0.3, 0
    sandbox_clean.fault("/api/v4/mining/accounts/create", "hang", hang_s=1.0)
    first = client.post(url, {"name": name, "label": "", "idempotency_key": key})
    assert first.status_code == 503 and "not known whether the account was created" in first.content.decode()
    assert IdempotencyRecord.objects.get(key=key).state == "unknown"
    _until(lambda: _upstream_accounts(sandbox_clean, name), "the hung create to land upstream")
    settings.WHITEBIT_TIMEOUT_S = 2.0
    retry = client.post(url, {"name": name, "label": "", "idempotency_key": key})
    assert retry.status_code == 302
    assert MiningAccount.objects.filter(name=name, customer=pp.customer).count() == 1
    assert len(_upstream_accounts(sandbox_clean, name)) == 1


def test_provider_without_api_secret_is_told_in_words(db, sandbox_pool, client):
    provider = services.provider_create(name="No Key Hosting", slug="nokey", upstream_base_url=sandbox_pool.base_url)
    services.customer_create(provider=provider, name="Lone Co", slug="lone-co")
    owner = services.user_get_or_create(email="owner@nokey.example", password=PASSWORD)
    services.provider_membership_grant(provider=provider, user=owner, role=StaffRole.OWNER)
    login_verified(client, owner)
    form = client.get("/p/nokey/onboard/lone-co/account/").content.decode()
    assert "has no WhiteBIT API key and secret yet" in form
    page = client.post("/p/nokey/onboard/lone-co/account/",
                       {"name": "lone_site", "label": "", "idempotency_key": _form_key(form)}).content.decode()
    assert "This provider has no WhiteBIT API key and secret yet: an owner or admin sets them" in page
    assert not MiningAccount.objects.filter(provider=provider).exists()


def test_read_only_staff_are_refused_and_may_read_the_connection_details(pool_provider, client):
    pp = pool_provider
    _staff(pp, client, role=StaffRole.READ_ONLY, email="reader@pool.example")
    base, account = f"/p/{pp.provider.slug}", pp.accounts[0]
    assert client.get(f"{base}/onboard/").status_code == 403
    assert client.get(f"{base}/onboard/miner-co/account/").status_code == 403
    assert client.post(f"{base}/onboard/miner-co/account/",
                       {"name": "ro_try", "idempotency_key": "k1"}).status_code == 403
    assert "Onboard a customer" not in client.get(f"{base}/fleet/").content.decode()
    assert "stratum+tcp://" in client.get(f"{base}/accounts/{account.pk}/connect/").content.decode()
    page = client.get(f"{base}/accounts/{account.pk}/payout/").content.decode()
    assert "Ask for the change" not in page
    assert client.post(f"{base}/accounts/{account.pk}/payout/",
                       {"destination": "main_balance"}).status_code == 403
    assert not MiningAccount.objects.filter(name="ro_try").exists()


def test_another_providers_staff_get_404(pool_provider, client, sandbox_pool):
    pp = pool_provider
    other = services.provider_create(name="Other Hosting", slug="other-hosting",
                                     upstream_base_url=sandbox_pool.base_url)
    bob = services.user_get_or_create(email="bob@other.example", password=PASSWORD)
    services.provider_membership_grant(provider=other, user=bob, role=StaffRole.OWNER)
    login_verified(client, bob)
    base, account = f"/p/{pp.provider.slug}", pp.accounts[0]
    before = (account.payout_destination, MiningAccount.objects.count(), AuditEntry.objects.count())
    for url in (f"{base}/onboard/", f"{base}/onboard/miner-co/account/", f"{base}/accounts/{account.pk}/connect/",
                f"{base}/accounts/{account.pk}/payout/", f"/p/other-hosting/accounts/{account.pk}/connect/",
                "/p/other-hosting/onboard/miner-co/account/"):
        assert client.get(url).status_code == 404, url
        sent = {"destination": "main_balance", "name": "evil", "idempotency_key": "k"}
        assert client.post(url, sent).status_code == 404, url
    account.refresh_from_db()
    assert (account.payout_destination, MiningAccount.objects.count(), AuditEntry.objects.count()) == before


def test_the_hand_over_says_so_when_the_pool_does_not_answer(pool_provider, sandbox_clean, client, settings):
    pp = pool_provider
    _staff(pp, client)
    account = pp.accounts[0]
    url = f"/p/{pp.provider.slug}/accounts/{account.pk}/connect/"
    sandbox_clean.fault("/api/v4/mining/miners/info", "500", count=5)
    fresh = client.get(url).content.decode()  # never read yet: it asks the pool, which fails
    assert "The pool did not give the connection details just now" in fresh
    assert "Will appear after the next sync." in fresh and "stratum+tcp://" not in fresh
    sandbox_clean.clear_faults()
    assert "stratum+tcp://pool.whitebit.com:3333" in client.get(url).content.decode()
    sandbox_clean.fault("/api/v4/mining/miners/info", "503", count=5)
    stale = client.get(url + "?refresh=1").content.decode()
    assert "Below are the last known ones." in stale and "stratum+tcp://pool.whitebit.com:3333" in stale


def test_payout_later_from_the_accounts_list_with_field_errors_and_the_code(pool_provider, sandbox_clean, client):
    pp = pool_provider
    owner = _staff(pp, client)
    # An account of its own: the sandbox is shared by the session, and a seeded account's destination must stay
    # what the pool seeded (tests/whitebit read it).
    account = mining_account_create(scope=pp.scope, name=sandbox_clean.unique_name("later"), customer_id=pp.customer.pk)
    base = f"/p/{pp.provider.slug}"
    listing = client.get(f"{base}/accounts/").content.decode()
    assert f"{base}/accounts/{account.pk}/payout/" in listing and f"{base}/accounts/{account.pk}/connect/" in listing
    url = f"{base}/accounts/{account.pk}/payout/"
    assert "Skip: set it later" not in client.get(url).content.decode()
    bad = client.post(url, {"destination": "external_address", "address": "bc1qnotarealaddress"}).content.decode()
    assert 'role="alert"' in bad and "address" in bad.lower()
    account.refresh_from_db()
    assert account.payout_address != "bc1qnotarealaddress"
    missing = client.post(url, {"destination": "external_address", "address": ""}).content.decode()
    assert "A Bitcoin address is required" in missing
    no_code = client.post(url, {"destination": "main_balance", "address": ""}).content.decode()
    assert "Enter the 6-digit code" in no_code
    assert not PayoutChange.objects.filter(account=account).exists()
    ok = client.post(url, {"destination": "main_balance", "address": "", "code": totp_code(totp_device_for(owner))})
    assert ok.status_code == 302 and ok["Location"] == f"{base}/accounts/"
    assert PayoutChange.objects.get(account=account).status == "held"


def test_onboarding_buttons_on_the_customers_list_and_the_fleet_page(pool_provider, client):
    pp = pool_provider
    _staff(pp, client, role=StaffRole.OPERATOR, email="op@pool.example")
    base = f"/p/{pp.provider.slug}"
    for page in ("customers/", "fleet/"):
        assert f'href="{base}/onboard/"' in client.get(f"{base}/{page}").content.decode()
    start = client.get(f"{base}/onboard/").content.decode()
    assert "Only an owner or admin can create customers" in start  # operators pick an existing customer
    assert client.post(f"{base}/onboard/", {"action": "create", "new-name": "X", "new-slug": "x"}).status_code == 403
    picked = client.post(f"{base}/onboard/", {"action": "pick", "customer": "miner-co"})
    assert picked["Location"] == f"{base}/onboard/miner-co/account/"


@pytest.mark.django_db
def test_the_customer_step_costs_the_same_with_1_and_50_customers(world, client, django_assert_num_queries):
    login_verified(client, world.alice)
    url = "/p/alpha/onboard/"
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    for i in range(50):
        services.customer_create(provider=world.provider_a, name=f"Bulk {i:02d}", slug=f"bulk-{i:02d}")
    with django_assert_num_queries(len(ctx.captured_queries)):
        page = client.get(url).content.decode()
    assert page.count('<option value="bulk-') == 50


@pytest.mark.django_db(transaction=True)
def test_a_double_click_waits_for_the_first_click_and_shows_its_account(pool_provider, client, settings):
    """The browser shows only the second click's answer: it must be the account the first click made."""
    import threading

    from django.db import connections

    from tenants.idempotency import idempotency_complete

    pp = pool_provider
    settings.ONBOARDING_CONCURRENT_WAIT_S = 10
    owner = _staff(pp, client)
    url, key = _account_form(client, pp)
    account = pp.accounts[0]
    scope = scope_for_user(owner, provider_slug=pp.provider.slug)
    claim = idempotency_claim(scope=scope, key=key, method="POST", path=url,
                              body={"name": "first_click", "label": "", "customer_id": pp.customer.pk})

    def first_click_finishes():
        time.sleep(0.5)
        idempotency_complete(record=claim.record, status=302, body={"account_id": account.pk})
        connections.close_all()

    finisher = threading.Thread(target=first_click_finishes)
    finisher.start()
    second = client.post(url, {"name": "first_click", "label": "", "idempotency_key": key})
    finisher.join()
    assert second.status_code == 302
    assert second["Location"] == f"/p/{pp.provider.slug}/accounts/{account.pk}/connect/?onboarding=1"
    assert not MiningAccount.objects.filter(name="first_click").exists()
