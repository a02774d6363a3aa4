"""Writes that reach the pool, over real HTTP against the sandbox: recorded locally in the same step, audited as
the token, idempotent per key, also when the first attempt timed out upstream and landed anyway."""

from __future__ import annotations

import time
import uuid

import pytest
from rest_framework.test import APIClient

from mining.models import MiningAccount, WatcherLink
from tenants.access import scope_for_system
from tenants.idempotency import idempotency_claim
from tenants.models import AuditEntry, IdempotencyRecord
from tests.api.conftest import token_make

pytestmark = pytest.mark.django_db
VALID_BTC = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


@pytest.fixture
def api(pool_provider, sandbox_clean, settings):
    settings.API_THROTTLE_RATE = "100000/min"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + token_make(pool_provider.provider, scopes="read,write",
                                                                  name="crm"))
    return client


def _post(client, path, body, key):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def _upstream_accounts(sandbox, name):
    return [a for a in sandbox.post("/api/v4/mining/accounts", {"name": name}).json()["data"] if a["name"] == name]


def _upstream_links(sandbox, account, name):
    body = sandbox.post("/api/v4/mining/watcher-links/list", {"account": account}).json()
    return [link for link in body["data"] if link.get("name", name) == name]


def _until(condition, what):
    """Wait (bounded) for the sandbox to finish a request it was told to hang on; no fixed sleeps."""
    deadline = time.monotonic() + 15
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _lose_the_answer(settings, sandbox, endpoint):
    """The next call to `endpoint` reaches the pool but its answer never comes back in time."""
    settings.WHITEBIT_TIMEOUT_S = 0.3
    settings.WHITEBIT_MAX_RETRIES = 0
    sandbox.fault(endpoint, "hang", hang_s=1.0)


def test_create_account_goes_to_the_pool_and_a_retry_returns_the_first_result(api, pool_provider, sandbox_clean):
    name = sandbox_clean.unique_name("api")
    key = str(uuid.uuid4())
    body = {"name": name, "customer_id": pool_provider.customer.pk, "label": "Site A"}
    first = _post(api, "/api/v1/mining-accounts/", body, key)
    assert first.status_code == 201, first.content
    assert first.json()["customer_id"] == pool_provider.customer.pk and first.json()["name"] == name
    assert len(_upstream_accounts(sandbox_clean, name)) == 1
    account = MiningAccount.objects.get(provider=pool_provider.provider, name=name)
    entry = AuditEntry.objects.get(action="mining_account.create", object_id=str(account.pk))
    assert entry.actor_kind == "token" and "crm" in entry.actor_label
    # Held through a dated assignment (the sync gives every row the customer of the assignment covering its day;
    # without one, the customer's workers, hashrate and rewards would be synced to nobody).
    assert list(account.assignments.values_list("customer_id", "valid_from", "valid_to")) == [
        (pool_provider.customer.pk, None, None)]

    again = _post(api, "/api/v1/mining-accounts/", body, key)
    assert again.status_code == 201 and again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert MiningAccount.objects.filter(name=name).count() == 1 and len(_upstream_accounts(sandbox_clean, name)) == 1

    changed = _post(api, "/api/v1/mining-accounts/", {**body, "label": "Site B"}, key)
    assert changed.status_code == 422 and changed.json()["error"]["code"] == "idempotency_key_reused"
    missing = api.post("/api/v1/mining-accounts/", {"name": sandbox_clean.unique_name("nokey")}, format="json")
    assert missing.status_code == 400 and "Idempotency-Key" in missing.json()["error"]["message"]


def test_retried_create_after_an_upstream_timeout_returns_the_account_the_first_call_made(
        api, pool_provider, sandbox_clean, settings):
    name = sandbox_clean.unique_name("lost")
    key = str(uuid.uuid4())
    _lose_the_answer(settings, sandbox_clean, "/api/v4/mining/accounts/create")
    first = _post(api, "/api/v1/mining-accounts/", {"name": name}, key)
    assert first.status_code == 503
    assert first.json()["error"]["retryable"] is True and first["Retry-After"]
    assert not MiningAccount.objects.filter(name=name).exists()
    assert IdempotencyRecord.objects.get(key=key).state == "unknown"
    _until(lambda: _upstream_accounts(sandbox_clean, name), "the hung create to land upstream")

    retry = _post(api, "/api/v1/mining-accounts/", {"name": name}, key)
    assert retry.status_code == 201, retry.content
    assert retry.json()["name"] == name
    assert MiningAccount.objects.filter(name=name).count() == 1 and len(_upstream_accounts(sandbox_clean, name)) == 1
    replay = _post(api, "/api/v1/mining-accounts/", {"name": name}, key)
    assert replay.json() == retry.json() and replay["Idempotent-Replayed"] == "true"


def test_pool_refusal_is_a_field_error_in_words_and_frees_the_key(api, pool_provider, sandbox_clean):
    name = sandbox_clean.unique_name("taken")
    sandbox_clean.post("/api/v4/mining/accounts/create", {"name": name})  # someone took it outside the portal
    key = str(uuid.uuid4())
    refused = _post(api, "/api/v1/mining-accounts/", {"name": name}, key)
    assert refused.status_code == 400
    assert refused.json()["error"]["type"] == "upstream_refused"
    assert refused.json()["error"]["fields"] == {
        "name": ["That mining account name is already taken on WhiteBIT; choose another."]}
    assert not MiningAccount.objects.filter(name=name).exists()
    assert not IdempotencyRecord.objects.filter(key=key).exists()
    bad = _post(api, "/api/v1/mining-accounts/", {"name": "no spaces allowed"}, str(uuid.uuid4()))
    assert bad.status_code == 400 and "name" in bad.json()["error"]["fields"]


def test_a_concurrent_retry_is_told_to_wait(api, pool_provider, sandbox_clean):
    from tenants.models import ApiToken
    from tenants.tokens import scope_for_token

    token = ApiToken.objects.get(provider=pool_provider.provider)
    name = sandbox_clean.unique_name("busy")
    idempotency_claim(scope=scope_for_token(token), key="busy-1", method="POST", path="/api/v1/mining-accounts/",
                      body={"name": name})
    response = _post(api, "/api/v1/mining-accounts/", {"name": name}, "busy-1")
    assert response.status_code == 409 and response.json()["error"]["code"] == "idempotency_key_in_use"
    assert not _upstream_accounts(sandbox_clean, name)


def _new_account(api, sandbox, customer_id):
    response = _post(api, "/api/v1/mining-accounts/", {"name": sandbox.unique_name("wl"), "customer_id": customer_id},
                     str(uuid.uuid4()))
    assert response.status_code == 201, response.content
    return response.json()


def test_watcher_link_create_once_per_key_also_when_the_answer_was_lost(api, pool_provider, sandbox_clean, settings):
    account = _new_account(api, sandbox_clean, pool_provider.customer.pk)
    body = {"account_ids": [account["id"]], "name": "week_view", "permissions": ["dashboard", "rewards"],
            "live_until": "7d"}
    made = _post(api, "/api/v1/watcher-links/", body, "link-1")
    assert made.status_code == 201, made.content
    assert made.json()["account_ids"] == [account["id"]] and made.json()["url"].startswith("https://")
    assert _post(api, "/api/v1/watcher-links/", body, "link-1").json() == made.json()
    assert len(_upstream_links(sandbox_clean, account["name"], "week_view")) == 1

    lost_body = {**body, "name": "lost_view"}
    _lose_the_answer(settings, sandbox_clean, "/api/v4/mining/watcher-links/create")
    assert _post(api, "/api/v1/watcher-links/", lost_body, "link-2").status_code == 503
    _until(lambda: _upstream_links(sandbox_clean, account["name"], "lost_view"), "the hung link to land")
    retry = _post(api, "/api/v1/watcher-links/", lost_body, "link-2")
    assert retry.status_code == 201, retry.content
    upstream = _upstream_links(sandbox_clean, account["name"], "lost_view")
    assert len(upstream) == 1 and retry.json()["url"] == upstream[0]["link"]
    assert WatcherLink.objects.filter(provider=pool_provider.provider, name="lost_view").count() == 1
    entry = AuditEntry.objects.filter(action="watcher_link.create").latest("id")
    assert entry.actor_kind == "token"


def test_watcher_link_refusals_are_field_errors(api, pool_provider, sandbox_clean):
    account = _new_account(api, sandbox_clean, pool_provider.customer.pk)
    bad = _post(api, "/api/v1/watcher-links/", {"account_ids": [account["id"], 999999], "name": "x y",
                                                "permissions": ["dashboard", "dashboard"], "live_until": "1h"},
                str(uuid.uuid4()))
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"account_ids", "name", "permissions"}
    assert not WatcherLink.objects.filter(provider=pool_provider.provider).exists()


def test_payout_destination_set_is_held_and_refusals_change_nothing(api, pool_provider, sandbox_clean):
    """Issue 15: a PUT creates a held change (202 with `pending_change`); nothing reaches the pool until the hold
    ends (tests/payouts/ follow it there)."""
    from mining.models import PayoutChange

    account = _new_account(api, sandbox_clean, pool_provider.customer.pk)
    url = f"/api/v1/mining-accounts/{account['id']}/payout-destination/"
    done = api.put(url, {"destination": "external_address", "address": VALID_BTC}, format="json",
                   HTTP_IDEMPOTENCY_KEY="pay-1")
    assert done.status_code == 202, done.content
    assert done.json()["address"] == "" and done.json()["pending_change"]["address"] == VALID_BTC
    upstream = sandbox_clean.post("/api/v4/mining/payout-destination", {"accountName": account["name"]}).json()
    assert upstream["externalAddress"] is None

    refused = api.put(url, {"destination": "external_address", "address": "bc1qnotanaddress"}, format="json",
                      HTTP_IDEMPOTENCY_KEY="pay-2")
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"] == {
        "address": ["This address contains characters a Bitcoin address cannot have: check for a typing mistake."]}
    typo = api.put(url, {"destination": "external_address", "address": VALID_BTC[:-1] + "p"}, format="json",
                   HTTP_IDEMPOTENCY_KEY="pay-3")  # checked here before it is sent: the pool's pattern would pass it
    assert typo.status_code == 400 and typo.json()["error"]["fields"] == {
        "address": ["This address's checksum is wrong: check for a typing mistake."]}
    assert api.get(url).json()["pending_change"]["address"] == VALID_BTC
    assert PayoutChange.objects.count() == 1
    entries = AuditEntry.objects.filter(action="payout_change.request")
    assert entries.count() == 1 and entries.get().actor_kind == "token"


def test_customer_token_may_set_its_own_payout_where_allowed_but_not_create_accounts(api, pool_provider, sandbox_clean):
    account = _new_account(api, sandbox_clean, pool_provider.customer.pk)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + token_make(
        pool_provider.provider, scopes="read,write", customer=pool_provider.customer, name="miner-co"))
    url = f"/api/v1/mining-accounts/{account['id']}/payout-destination/"
    refused = client.put(url, {"destination": "main_balance"}, format="json", HTTP_IDEMPOTENCY_KEY="c-0")
    assert refused.status_code == 403  # until the provider lets its customers change it
    pool_provider.provider.customers_may_change_payout = True
    pool_provider.provider.save(update_fields=["customers_may_change_payout"])
    assert client.put(url, {"destination": "external_address", "address": VALID_BTC}, format="json",
                      HTTP_IDEMPOTENCY_KEY="c-1").status_code == 202
    denied = _post(client, "/api/v1/mining-accounts/", {"name": sandbox_clean.unique_name("no")}, "c-2")
    assert denied.status_code == 403
    scope_for_system(provider_id=pool_provider.provider.pk)  # the provider still exists and is untouched


def test_provider_without_pool_credentials_is_told_in_words(world, settings):
    from tenants.models import Provider

    Provider.objects.filter(pk=world.provider_a.pk).update(whitebit_api_key="", api_secret_ciphertext="")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + token_make(world.provider_a, scopes="read,write"))
    response = _post(client, "/api/v1/mining-accounts/", {"name": "no_creds"}, "k")
    assert response.status_code == 400
    assert "no WhiteBIT API key and secret" in response.json()["error"]["message"]
    assert not MiningAccount.objects.filter(name="no_creds").exists()
