"""Labels in the REST API: read-only on accounts and workers, and a `label` filter; another tenant's label filters
to nothing and never shows up."""

from __future__ import annotations

import pytest

from mining.services.labels import label_create, labels_set_for_account, labels_set_for_workers
from tenants.access import scope_for_system

pytestmark = pytest.mark.django_db


def _ids(response):
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


def test_accounts_and_workers_list_their_labels_and_filter_by_them(api_world):
    w, a1, a2 = api_world.world, api_world.a1, api_world.a2
    scope = scope_for_system(provider_id=w.provider_a.pk)
    site = label_create(scope=scope, kind="site", name="Kyiv north")
    rack = label_create(scope=scope, kind="rack", name="R12")
    labels_set_for_account(scope=scope, account_id=a1["account"].pk, label_ids=[site.pk])
    labels_set_for_workers(scope=scope, worker_ids=[a2["workers"][0].pk], label_id=rack.pk, add=True)
    c = api_world.client("a_read")

    account = c.get(f"/api/v1/mining-accounts/{a1['account'].pk}/").json()
    assert account["labels"] == [{"id": site.pk, "kind": "site", "name": "Kyiv north"}]
    assert _ids(c.get("/api/v1/mining-accounts/", {"label": site.pk})) == [a1["account"].pk]
    assert _ids(c.get("/api/v1/workers/", {"label": rack.pk})) == [a2["workers"][0].pk]
    # A site on the account covers its workers.
    assert _ids(c.get("/api/v1/workers/", {"label": site.pk})) == sorted(x.pk for x in a1["workers"])
    worker = c.get(f"/api/v1/workers/{a2['workers'][0].pk}/").json()
    assert [label["name"] for label in worker["labels"]] == ["R12"]
    assert c.get("/api/v1/workers/", {"label": "x"}).status_code == 400

    # Carol's token: her own rows only, whatever label she asks for.
    carol = api_world.client("a1_write")
    assert _ids(carol.get("/api/v1/workers/", {"label": rack.pk})) == []
    # Another provider's token: provider A's label id matches none of its rows.
    assert _ids(api_world.client("b_write").get("/api/v1/mining-accounts/", {"label": site.pk})) == []
