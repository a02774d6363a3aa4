"""The data migration that repairs accounts created for a customer before creation went through the assignment
service: they get the assignment they should have had, and their rows synced to nobody become the customer's."""

from __future__ import annotations

import importlib

from django.apps import apps

from mining.models import AccountAssignment, MiningAccount, Worker
from tests.portal.portal_rows import fleet_rows_add

repair = importlib.import_module("mining.migrations.0006_assign_accounts_created_on_the_pool")


def test_unassigned_accounts_of_a_customer_get_their_assignment_and_their_rows(world):
    orphan, kept = fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=2)
    AccountAssignment.objects.filter(account=orphan).delete()  # as the old create left it
    AccountAssignment.objects.create(provider=world.provider_a, account=kept, customer=world.customer_a1)
    Worker.objects.filter(account=orphan).update(customer=None)  # as the sync then wrote its rows
    MiningAccount.objects.filter(pk=orphan.pk).update(customer=world.customer_a1)
    other_before = list(AccountAssignment.objects.filter(account=kept).values_list("pk", "valid_from"))

    repair.assign(apps, None)

    assert list(orphan.assignments.values_list("customer_id", "valid_from", "valid_to")) == [
        (world.customer_a1.pk, None, None)]
    assert not Worker.objects.filter(account=orphan, customer__isnull=True).exists()
    assert Worker.objects.filter(account=orphan, customer=world.customer_a1).exists()
    assert list(AccountAssignment.objects.filter(account=kept).values_list("pk", "valid_from")) == other_before
