"""What an integrator sees: each resource lists and fetches its tenant's rows, filtered, cursor-paginated, with
amounts as exact strings and errors in one format."""

from __future__ import annotations

import pytest

from mining.models import Reward

pytestmark = pytest.mark.django_db


def _ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_provider_token_lists_every_customer_of_its_provider_only(api_world):
    w = api_world.world
    ids = _ids(api_world.client("a_write").get("/api/v1/customers/"))
    assert sorted(ids) == sorted([w.customer_a1.pk, w.customer_a2.pk])
    ids = _ids(api_world.client("a1_write").get("/api/v1/customers/"))
    assert ids == [w.customer_a1.pk]


def test_customer_token_sees_only_its_customers_accounts_workers_rewards(api_world):
    c = api_world.client("a1_write")
    assert _ids(c.get("/api/v1/mining-accounts/")) == [api_world.a1["account"].pk]
    assert sorted(_ids(c.get("/api/v1/workers/"))) == sorted(x.pk for x in api_world.a1["workers"])
    assert sorted(_ids(c.get("/api/v1/rewards/"))) == sorted(x.pk for x in api_world.a1["rewards"])
    assert _ids(c.get("/api/v1/alerts/")) == [api_world.a1["alert"].pk]
    assert _ids(c.get("/api/v1/watcher-links/")) == [api_world.a1["link"].pk]


def test_amounts_are_exact_strings_with_units_in_their_names(api_world):
    big = api_world.a1["rewards"][0]  # 9,007,199,254,740,993 sats: past a double's exact integers
    body = api_world.client("a_read").get(f"/api/v1/rewards/{big.pk}/").json()
    assert body["total_reward_sats"] == "9007199254740993"
    assert body["reward_sats"] == "9007199254740990" and body["fee_sats"] == "3"
    assert body["fpps_rate"] == "0.005123456789000000000000"
    assert body["hashrate_hs"] == "200000000000001.250000"
    worker = api_world.client("a_read").get(f"/api/v1/workers/{api_world.a1['workers'][0].pk}/").json()
    assert worker["current_hashrate_hs"] == "100000000000000.500000"


def test_filters_narrow_the_lists(api_world):
    c = api_world.client("a_read")
    a1 = api_world.a1
    pending = _ids(c.get("/api/v1/rewards/", {"status": "pending"}))
    assert sorted(pending) == sorted(r.pk for r in Reward.objects.filter(status="pending", provider=a1["account"]
                                                                         .provider_id))
    assert _ids(c.get("/api/v1/rewards/", {"account_id": a1["account"].pk, "date_from": "2026-11-02",
                                           "date_to": "2026-11-02"})) == [a1["rewards"][1].pk]
    assert _ids(c.get("/api/v1/mining-accounts/", {"customer_id": api_world.world.customer_a2.pk})) == [
        api_world.a2["account"].pk]
    assert _ids(c.get("/api/v1/alerts/", {"is_open": "true", "account_id": a1["account"].pk})) == [a1["alert"].pk]
    assert _ids(c.get("/api/v1/watcher-links/", {"account_id": a1["account"].pk})) == [a1["link"].pk]


def test_bad_filter_is_a_field_error(api_world):
    response = api_world.client("a_read").get("/api/v1/rewards/", {"status": "lost", "date_from": "yesterday"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request" and set(error["fields"]) == {"status", "date_from"}


def test_hashrate_series_by_interval_and_time_range(api_world):
    account = api_world.a1["account"]
    c = api_world.client("a1_write")
    default = c.get(f"/api/v1/mining-accounts/{account.pk}/hashrate/").json()["results"]
    assert [p["interval"] for p in default] == ["1h"] * 5
    assert [p["at"] for p in default] == sorted(p["at"] for p in default)  # oldest first
    ranged = c.get(f"/api/v1/mining-accounts/{account.pk}/hashrate/",
                   {"interval": "24h", "from": "2026-11-20T09:00:00Z", "to": "2026-11-20T11:00:00Z"}).json()
    assert [p["at"] for p in ranged["results"]] == [
        "2026-11-20T09:00:00Z", "2026-11-20T10:00:00Z", "2026-11-20T11:00:00Z"]
    assert ranged["results"][0]["hashrate_hs"] == "200000000000001.250000"
    worker = api_world.a1["workers"][0]
    points = c.get(f"/api/v1/workers/{worker.pk}/hashrate/").json()["results"]
    assert len(points) == 5 and points[0]["hashrate_hs"] == "100000000000000.500000"
    bad = c.get(f"/api/v1/mining-accounts/{account.pk}/hashrate/", {"interval": "7m"})
    assert bad.status_code == 400 and "interval" in bad.json()["error"]["fields"]


def test_cursor_pagination_walks_every_row_once(api_world):
    c = api_world.client("a_read")
    seen, url, pages = [], "/api/v1/rewards/?limit=2", 0
    while url:
        body = c.get(url).json()
        seen += [r["id"] for r in body["results"]]
        url, pages = body["next"], pages + 1
    assert pages == 3 and len(seen) == len(set(seen)) == 6
    assert c.get("/api/v1/rewards/", {"cursor": "not-a-cursor"}).status_code == 400


def test_payout_destination_read(api_world):
    account = api_world.a1["account"]
    body = api_world.client("a1_write").get(f"/api/v1/mining-accounts/{account.pk}/payout-destination/").json()
    assert body == {"account_id": account.pk, "destination": "main_balance", "address": "",
                    "upstream_destination": "", "upstream_address": "", "drift": False,
                    "payout_drift_detected_at": None, "pending_change": None}


def test_customer_create_is_audited_as_the_token_and_validated_field_by_field(api_world):
    from tenants.models import AuditEntry, Customer

    c = api_world.client("a_write")
    response = c.post("/api/v1/customers/", {"name": "Northwind", "slug": "northwind",
                                             "contact_emails": ["ops@northwind.example"]}, format="json")
    assert response.status_code == 201, response.content
    entry = AuditEntry.objects.get(action="customer.create", object_id=str(response.json()["id"]))
    assert entry.actor_kind == "token" and "crm" in entry.actor_label
    assert entry.object_id == str(response.json()["id"])
    bad = c.post("/api/v1/customers/", {"name": "", "slug": "Bad Slug!", "contact_emails": ["nope"]},
                 format="json")
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"name", "slug", "contact_emails.0"}
    taken = c.post("/api/v1/customers/", {"name": "Again", "slug": "northwind"}, format="json")
    assert taken.status_code == 400 and taken.json()["error"]["fields"] == {
        "slug": ["This provider already has a customer with that slug."]}
    assert Customer.objects.filter(provider=api_world.world.provider_a).count() == 3


def test_the_api_and_the_console_create_a_customer_by_one_rule(api_world, client):
    """One customer create (issue 18): "ACME" through the API and "acme" typed in the console are the same slug,
    so the second is refused with the same words (before, the API kept "ACME" and made a second customer)."""
    from tenants.models import Customer
    from tests.fixtures.access import login_verified

    made = api_world.client("a_write").post("/api/v1/customers/", {"name": "  ACME Hosting ", "slug": " ACME "},
                                            format="json")
    assert made.status_code == 201 and (made.json()["slug"], made.json()["name"]) == ("acme", "ACME Hosting")
    login_verified(client, api_world.world.alice)
    page = client.post("/p/alpha/customers/new/", {"name": "Acme again", "slug": "acme", "contact_emails": ""})
    assert page.status_code == 200 and "This provider already has a customer with that slug." in page.content.decode()
    again = api_world.client("a_write").post("/api/v1/customers/", {"name": "x", "slug": "Acme"}, format="json")
    assert again.status_code == 400 and again.json()["error"]["fields"] == {
        "slug": ["This provider already has a customer with that slug."]}
    assert Customer.objects.filter(provider=api_world.world.provider_a, slug__iexact="acme").count() == 1


def test_unauthenticated_is_401_with_the_error_format(api_world):
    response = api_world.client().get("/api/v1/customers/")
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["type"] == "authentication_error"


def test_schema_and_docs_are_served_from_our_own_files(client):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    body = schema.json()
    assert body["openapi"].startswith("3.") and "/api/v1/mining-accounts/" in body["paths"]
    create = body["paths"]["/api/v1/mining-accounts/"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in create["parameters"])
    assert create["requestBody"]["content"]["application/json"]["examples"]  # with examples
    docs = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs
    assert "cdn" not in docs.lower() and "unpkg" not in docs.lower()
