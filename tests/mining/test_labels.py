"""Labels: staff create them, tag accounts and workers; bad input is a field error; tenants stay apart; a re-sync
of the pool keeps every worker's labels (the sync upserts workers, it never replaces them)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from mining.models import AccountLabel, Label, Worker, WorkerLabel
from mining.services.labels import label_create, label_delete, labels_set_for_account, labels_set_for_workers
from mining.services.sync import mining_account_sync
from tenants.models import AuditEntry
from tests.portal.portal_rows import fleet_rows_add


@pytest.fixture
def alice(world):
    return world.scope(world.alice, world.provider_a)


def test_create_checks_every_field_and_writes_nothing_on_error(world, alice):
    with pytest.raises(ValidationError) as exc:
        label_create(scope=alice, kind="site", name="   ")
    assert exc.value.message_dict == {"name": ["Give the label a name."]}
    with pytest.raises(ValidationError) as exc:
        label_create(scope=alice, kind="site", name="x" * 65)
    assert "At most 64 characters" in exc.value.message_dict["name"][0]
    with pytest.raises(ValidationError) as exc:
        label_create(scope=alice, kind="planet", name="Mars")
    assert "kind" in exc.value.message_dict
    assert not Label.objects.exists()

    site = label_create(scope=alice, kind="site", name="  Kyiv   north ")
    assert (site.kind, site.name, site.provider_id) == ("site", "Kyiv north", world.provider_a.pk)
    with pytest.raises(ValidationError) as exc:  # a double submit, or the same name in another case
        label_create(scope=alice, kind="site", name="KYIV NORTH")
    assert "already a site label" in exc.value.message_dict["name"][0]
    label_create(scope=alice, kind="rack", name="Kyiv north")  # another kind may share the name
    assert Label.objects.count() == 2
    assert AuditEntry.objects.filter(action="label.create").count() == 2


def test_read_only_staff_and_customers_cannot_write(world, alice):
    site = label_create(scope=alice, kind="site", name="A")
    with pytest.raises(PermissionDenied):
        label_create(scope=world.scope(world.dave, world.provider_a), kind="site", name="B")
    carol = world.scope(world.carol, world.provider_a, world.customer_a1)
    with pytest.raises(PermissionDenied):
        label_delete(scope=carol, label_id=site.pk)
    assert Label.objects.count() == 1


def test_tag_an_account_exactly_and_idempotently(world, alice):
    account = fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=1)[0]
    site = label_create(scope=alice, kind="site", name="Kyiv")
    batch = label_create(scope=alice, kind="batch", name="S19j 2024")
    labels_set_for_account(scope=alice, account_id=account.pk, label_ids=[site.pk, batch.pk])
    labels_set_for_account(scope=alice, account_id=account.pk, label_ids=[site.pk, batch.pk])  # double submit
    assert set(account.labels.values_list("name", flat=True)) == {"Kyiv", "S19j 2024"}
    assert AccountLabel.objects.filter(account=account).count() == 2
    assert AuditEntry.objects.filter(action="mining_account.labels").count() == 1
    labels_set_for_account(scope=alice, account_id=account.pk, label_ids=[batch.pk])
    assert list(account.labels.values_list("name", flat=True)) == ["S19j 2024"]
    entry = AuditEntry.objects.filter(action="mining_account.labels").order_by("-pk").first()
    assert entry.changes["labels"] == [["Hardware batch: S19j 2024", "Site: Kyiv"], ["Hardware batch: S19j 2024"]]
    assert AccountLabel.objects.get(account=account).provider_id == world.provider_a.pk


def test_bulk_tag_workers_add_and_remove(world, alice):
    accounts = fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=3)
    workers = list(Worker.objects.filter(account__in=accounts).values_list("pk", flat=True))
    rack = label_create(scope=alice, kind="rack", name="R12")
    assert labels_set_for_workers(scope=alice, worker_ids=workers[:2], label_id=rack.pk, add=True) == 2
    assert labels_set_for_workers(scope=alice, worker_ids=workers, label_id=rack.pk, add=True) == 1
    assert labels_set_for_workers(scope=alice, worker_ids=workers, label_id=rack.pk, add=True) == 0
    assert WorkerLabel.objects.filter(label=rack).count() == 3
    assert labels_set_for_workers(scope=alice, worker_ids=workers[:1], label_id=rack.pk, add=False) == 1
    assert WorkerLabel.objects.filter(label=rack).count() == 2
    with pytest.raises(ValidationError) as exc:
        labels_set_for_workers(scope=alice, worker_ids=[], label_id=rack.pk, add=True)
    assert exc.value.message_dict == {"workers": ["Choose at least one worker."]}
    label_delete(scope=alice, label_id=rack.pk)
    assert not WorkerLabel.objects.exists() and Worker.objects.count() == 3  # the workers stay
    with pytest.raises(Http404):
        label_delete(scope=alice, label_id=rack.pk)


def test_another_providers_labels_and_workers_are_404(world, alice):
    mine = fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=1)[0]
    theirs = fleet_rows_add(provider=world.provider_b, customer=world.customer_b1, n=1)[0]
    bob = world.scope(world.bob, world.provider_b)
    their_label = label_create(scope=bob, kind="site", name="Kyiv")
    my_label = label_create(scope=alice, kind="site", name="Kyiv")  # same name, another provider: fine
    their_worker = Worker.objects.get(account=theirs)
    my_worker = Worker.objects.get(account=mine)
    with pytest.raises(Http404):
        labels_set_for_account(scope=alice, account_id=mine.pk, label_ids=[their_label.pk])
    with pytest.raises(Http404):
        labels_set_for_account(scope=alice, account_id=theirs.pk, label_ids=[my_label.pk])
    with pytest.raises(Http404):  # one foreign worker refuses the whole change
        labels_set_for_workers(scope=alice, worker_ids=[my_worker.pk, their_worker.pk], label_id=my_label.pk,
                               add=True)
    with pytest.raises(Http404):
        labels_set_for_workers(scope=alice, worker_ids=[my_worker.pk], label_id=their_label.pk, add=True)
    with pytest.raises(Http404):
        label_delete(scope=alice, label_id=their_label.pk)
    assert not AccountLabel.objects.exists() and not WorkerLabel.objects.exists()
    assert Label.objects.count() == 2


def test_a_resync_keeps_the_workers_labels(pool_provider):
    pp = pool_provider
    account = pp.accounts[0]
    mining_account_sync(provider_id=pp.provider.pk, account_id=account.pk, now=pp.data_now)
    workers = list(Worker.objects.filter(account=account).order_by("name"))
    assert workers, "the sandbox account has workers"
    rack = label_create(scope=pp.scope, kind="rack", name="R1")
    labels_set_for_workers(scope=pp.scope, worker_ids=[w.pk for w in workers], label_id=rack.pk, add=True)
    labels_set_for_account(scope=pp.scope, account_id=account.pk, label_ids=[rack.pk])
    before = {(w.pk, w.name) for w in workers}

    for _ in range(2):  # a re-sync, and one more: the pool's copy is re-read and upserted
        mining_account_sync(provider_id=pp.provider.pk, account_id=account.pk, now=pp.data_now)

    after = Worker.objects.filter(account=account)
    assert {(w.pk, w.name) for w in after} == before
    assert all(list(w.labels.values_list("name", flat=True)) == ["R1"] for w in after)
    assert list(account.labels.values_list("name", flat=True)) == ["R1"]
