"""Labels in the portal: the staff labels page, tagging accounts and workers, and the label filter on every list
(staff accounts, workers, customers, alerts; the customer's workers), each at a constant query count."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mining.models import AccountLabel, Alert, Label, Worker, WorkerLabel
from mining.services.labels import label_create, labels_set_for_account, labels_set_for_workers
from tests.fixtures.access import login_verified
from tests.portal.portal_rows import fleet_rows_add


@pytest.fixture
def tagged(world):
    """Carol's two accounts (the first tagged with a site), Eve's one (its worker in a rack)."""
    alice = world.scope(world.alice, world.provider_a)
    carol1, carol2 = fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=2)
    (eve1,) = fleet_rows_add(provider=world.provider_a, customer=world.customer_a2, n=1)
    site = label_create(scope=alice, kind="site", name="Kyiv north")
    rack = label_create(scope=alice, kind="rack", name="R12")
    labels_set_for_account(scope=alice, account_id=carol1.pk, label_ids=[site.pk])
    eve_worker = Worker.objects.get(account=eve1)
    labels_set_for_workers(scope=alice, worker_ids=[eve_worker.pk], label_id=rack.pk, add=True)
    Alert.objects.filter(account=eve1).update(worker=eve_worker)  # a worker-offline alert names its worker
    return {"site": site, "rack": rack, "carol1": carol1, "carol2": carol2, "eve1": eve1}


def _workers_listed(page: str) -> int:
    return int(re.search(r"(\d+) workers?\b", page).group(1))


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_staff_create_and_delete_labels_with_field_errors(world, client):
    login_verified(client, world.alice)
    page = client.post("/p/alpha/labels/", {"kind": "site", "name": ""}).content.decode()
    assert "Give the label a name." in page and not Label.objects.exists()
    response = client.post("/p/alpha/labels/", {"kind": "rack", "name": "R12"})
    assert response.status_code == 302
    page = client.post("/p/alpha/labels/", {"kind": "rack", "name": "r12"}).content.decode()  # double submit
    assert "There is already a rack label" in page and Label.objects.count() == 1
    page = client.post("/p/alpha/labels/", {"kind": "rack", "name": "x" * 65}).content.decode()
    assert "At most 64 characters" in page
    label = Label.objects.get()
    assert "R12" in _page(client, "/p/alpha/labels/")
    assert client.post(f"/p/alpha/labels/{label.pk}/delete/").status_code == 302
    assert not Label.objects.exists()


def test_read_only_staff_see_labels_but_cannot_change_them(world, client, tagged):
    login_verified(client, world.dave)
    page = _page(client, "/p/alpha/labels/")
    assert "Kyiv north" in page and "Create label" not in page
    assert client.post("/p/alpha/labels/", {"kind": "site", "name": "New"}).status_code == 403
    assert client.post(f"/p/alpha/accounts/{tagged['carol2'].pk}/labels/",
                       {"labels": [tagged["site"].pk]}).status_code == 403
    assert AccountLabel.objects.count() == 1 and Label.objects.count() == 2


def test_tag_an_account_and_workers_from_their_pages(world, client, tagged):
    login_verified(client, world.alice)
    carol2, site, rack = tagged["carol2"], tagged["site"], tagged["rack"]
    response = client.post(f"/p/alpha/accounts/{carol2.pk}/labels/",
                           {"labels": [site.pk, rack.pk], "next": "/p/alpha/accounts/?label=1"})
    assert response.status_code == 302 and response["Location"] == "/p/alpha/accounts/?label=1"
    assert set(carol2.labels.values_list("name", flat=True)) == {"Kyiv north", "R12"}
    workers = list(Worker.objects.filter(customer=world.customer_a1).values_list("pk", flat=True))
    client.post("/p/alpha/workers/labels/", {"workers": workers, "label": rack.pk, "action": "add"})
    assert WorkerLabel.objects.filter(label=rack).count() == 3
    page = client.post("/p/alpha/workers/labels/", {"workers": workers, "label": rack.pk, "action": "remove"},
                       follow=True).content.decode()
    assert "2 workers no longer carry" in page and WorkerLabel.objects.filter(label=rack).count() == 1
    page = client.post("/p/alpha/workers/labels/", {"label": rack.pk, "action": "add"}, follow=True).content.decode()
    assert "Choose at least one worker." in page
    # Another provider's worker in the selection: 404, nothing changed.
    (theirs,) = fleet_rows_add(provider=world.provider_b, customer=world.customer_b1, n=1)
    foreign = Worker.objects.get(account=theirs).pk
    response = client.post("/p/alpha/workers/labels/", {"workers": [workers[0], foreign], "label": rack.pk})
    assert response.status_code == 404 and WorkerLabel.objects.filter(label=rack).count() == 1


def test_every_staff_list_filters_by_label(world, client, tagged):
    login_verified(client, world.alice)
    site, rack = tagged["site"].pk, tagged["rack"].pk
    carol1, carol2, eve1 = (tagged[k].name for k in ("carol1", "carol2", "eve1"))

    accounts = _page(client, f"/p/alpha/accounts/?label={site}")
    assert carol1 in accounts and carol2 not in accounts and eve1 not in accounts
    assert "Kyiv north" in _page(client, "/p/alpha/accounts/")

    workers = _page(client, f"/p/alpha/workers/?label={rack}")
    assert _workers_listed(workers) == 1 and eve1 in workers and carol1 not in workers
    workers = _page(client, f"/p/alpha/workers/?label={site}")  # the account's site tags its workers
    assert _workers_listed(workers) == 1 and carol1 in workers
    assert _workers_listed(_page(client, "/p/alpha/workers/")) == 3

    customers = _page(client, f"/p/alpha/customers/?label={rack}")
    assert "Eve Hashing" in customers and "Carol Mining" not in customers
    customers = _page(client, f"/p/alpha/customers/rows/?label={site}")
    assert "Carol Mining" in customers and "Eve Hashing" not in customers

    alerts = _page(client, f"/p/alpha/alerts/?label={site}")
    assert f"{carol1}." in alerts and f"{carol2}." not in alerts and f"{eve1}." not in alerts
    alerts = _page(client, f"/p/alpha/alerts/rows/?state=all&label={rack}")
    assert f"{eve1}." in alerts and f"{carol1}." not in alerts


def test_customers_see_their_labels_read_only_and_filter_by_them(world, client, tagged):
    client.force_login(world.carol)
    page = _page(client, "/c/alpha/carol-mining/workers/")
    assert "Kyiv north" in page
    assert "R12" not in page  # Eve's rack label is not Carol's to see, not even in the filter's choices
    assert "/labels/" not in page  # nothing to edit
    filtered = _page(client, f"/c/alpha/carol-mining/workers/rows/?label={tagged['site'].pk}")
    assert _workers_listed(filtered) == 1
    assert tagged["carol1"].name in filtered and tagged["carol2"].name not in filtered
    # Another customer's label id filters to nothing: it never reveals Eve's workers.
    other = _page(client, f"/c/alpha/carol-mining/workers/rows/?label={tagged['rack'].pk}")
    assert _workers_listed(other) == 0
    assert client.get("/p/alpha/labels/").status_code == 404


def _count(client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200, url
    return len(ctx.captured_queries)


def _tag_everything(world) -> None:
    alice = world.scope(world.alice, world.provider_a)
    site = Label.objects.get(provider=world.provider_a, name="Kyiv north")
    rack = Label.objects.get(provider=world.provider_a, name="R12")
    workers = list(Worker.objects.filter(provider=world.provider_a).values_list("pk", flat=True))
    labels_set_for_workers(scope=alice, worker_ids=workers, label_id=rack.pk, add=True)
    for account in world.provider_a.mining_accounts.all():
        labels_set_for_account(scope=alice, account_id=account.pk, label_ids=[site.pk, rack.pk])


STAFF_LISTS = ["labels/", "workers/", "workers/?label={site}&q=acct", "accounts/", "accounts/?label={site}",
               "customers/?label={rack}", "alerts/?label={site}", "alerts/rows/?state=all&label={rack}"]


@pytest.mark.parametrize("page", STAFF_LISTS)
def test_staff_lists_cost_the_same_with_1_and_50_labelled_rows(world, client, django_assert_num_queries, page):
    alice = world.scope(world.alice, world.provider_a)
    site = label_create(scope=alice, kind="site", name="Kyiv north")
    rack = label_create(scope=alice, kind="rack", name="R12")
    fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=1)
    _tag_everything(world)
    login_verified(client, world.alice)
    url = "/p/alpha/" + page.format(site=site.pk, rack=rack.pk)
    one = _count(client, url)
    fleet_rows_add(provider=world.provider_a, customer=world.customer_a2, n=49)
    _tag_everything(world)
    for extra in range(3):  # more labels to choose from in every filter and tagger
        label_create(scope=alice, kind="batch", name=f"B{extra}")
    with django_assert_num_queries(one):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("page", ["workers/", "workers/rows/?label={site}", "workers/?label={rack}&sort=status"])
def test_customer_workers_cost_the_same_with_1_and_50_labelled_rows(world, client, django_assert_num_queries, page):
    alice = world.scope(world.alice, world.provider_a)
    site = label_create(scope=alice, kind="site", name="Kyiv north")
    rack = label_create(scope=alice, kind="rack", name="R12")
    fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=1)
    _tag_everything(world)
    client.force_login(world.carol)
    url = "/c/alpha/carol-mining/" + page.format(site=site.pk, rack=rack.pk)
    one = _count(client, url)
    fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=49)
    _tag_everything(world)
    with django_assert_num_queries(one):
        body = client.get(url).content.decode()
    assert "50 workers" in body and body.count(">R12</span>") == 100  # on each worker and on its account
