"""Moving an account between customers is one dated service, serialised with the sync (issue 7, item 7).

Rows dated before the move stay with the old customer, rows from the move on belong to the new one, a sync
running meanwhile cannot put rows under the wrong customer, and the customer is always the account's provider's.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import Http404

from mining.models import AccountAssignment, AccountHashrateSample, MiningAccount, Reward, SyncState, Worker
from mining.services.accounts import mining_account_assign
from mining.services.sync import mining_account_sync
from tenants import services
from tenants.access import Scope, ScopeKind
from tenants.models import AuditEntry, StaffRole
from tests.fixtures.access import login_verified
from tests.fixtures.mining import pool_provider_make
from tests.mining.test_sync import sync_all


def _owners(model, account, field, day):
    """customer ids of the account's rows before and from `day`."""
    qs = model.objects.filter(account=account)
    before = set(qs.filter(**{f"{field}__lt": day}).values_list("customer_id", flat=True))
    after = set(qs.filter(**{f"{field}__gte": day}).values_list("customer_id", flat=True))
    return before, after


def test_a_move_keeps_the_past_with_the_old_customer(pool_provider):
    pp = pool_provider
    sync_all(pp)
    account = pp.accounts[0]
    other = services.customer_create(provider=pp.provider, name="Other Co", slug="other-co")
    day = pp.data_now.date() - timedelta(days=2)
    mining_account_assign(scope=pp.scope, account_id=account.pk, customer_id=other.pk, effective_on=day,
                          today=pp.data_now.date())
    assert _owners(Reward, account, "date", day) == ({pp.customer.pk}, {other.pk})
    start_at = pp.data_now.replace(hour=0) - timedelta(days=2)
    assert _owners(AccountHashrateSample, account, "at", start_at) == ({pp.customer.pk}, {other.pk})
    assert set(Worker.objects.filter(account=account).values_list("customer_id", flat=True)) == {other.pk}
    assert set(SyncState.objects.filter(account=account).values_list("customer_id", flat=True)) == {other.pk}
    periods = sorted(AccountAssignment.objects.filter(account=account).values_list("customer_id", "valid_from",
                                                                                    "valid_to"),
                     key=lambda p: (p[1] is not None, p[1]))
    assert periods == [(pp.customer.pk, None, day), (other.pk, day, None)]
    entry = AuditEntry.objects.filter(action="mining_account.assign", object_id=str(account.pk)).first()
    assert entry.changes == {"customer": [pp.customer.pk, other.pk], "effective_on": [None, str(day)]}
    assert entry.customer_id == other.pk
    # A re-sync re-reads days on both sides of the move: each row stays with the holder of its day.
    sync_all(pp, now=pp.data_now + timedelta(minutes=10))
    assert _owners(Reward, account, "date", day) == ({pp.customer.pk}, {other.pk})


def test_rows_synced_after_the_move_for_days_before_it_go_to_the_old_customer(pool_provider):
    pp = pool_provider
    account = pp.accounts[0]
    other = services.customer_create(provider=pp.provider, name="Other Co", slug="other-co")
    day = pp.data_now.date() - timedelta(days=3)
    # The account has history in the pool but none synced yet when it moves.
    mining_account_assign(scope=pp.scope, account_id=account.pk, customer_id=other.pk, effective_on=day,
                          today=pp.data_now.date())
    mining_account_sync(provider_id=pp.provider.pk, account_id=account.pk, now=pp.data_now)
    before, after = _owners(Reward, account, "date", day)
    assert before == {pp.customer.pk} and after == {other.pk}


@pytest.mark.django_db(transaction=True)
def test_a_move_during_a_running_sync_is_serialised_with_it(sandbox_pool, fast_upstream_retries, settings):
    pp = pool_provider_make(sandbox_pool)
    account = pp.accounts[0]
    other = services.customer_create(provider=pp.provider, name="Other Co", slug="other-co")
    day = pp.data_now.date() - timedelta(days=2)
    settings.WHITEBIT_TIMEOUT_S = 10
    sandbox_pool.fault("/api/v4/mining/rewards", "hang", count=1, hang_s=2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            mining_account_sync(provider_id=pp.provider.pk, account_id=account.pk, now=pp.data_now)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not Worker.objects.filter(account=account).exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # the sync loaded the account (old holder) and now waits on the pool's rewards
        mining_account_assign(scope=pp.scope, account_id=account.pk, customer_id=other.pk, effective_on=day,
                              today=pp.data_now.date())
    finally:
        thread.join()
        sandbox_pool.clear_faults()
    assert not errors
    assert Reward.objects.filter(account=account).exists()
    assert _owners(Reward, account, "date", day) == ({pp.customer.pk}, {other.pk})


def test_bad_moves_are_refused_and_change_nothing(world, pool_provider):
    pp = pool_provider
    account = pp.accounts[0]
    other = services.customer_create(provider=pp.provider, name="Other Co", slug="other-co")
    today = pp.data_now.date()
    before = list(AccountAssignment.objects.values_list("pk", "customer_id", "valid_from", "valid_to"))
    with pytest.raises(ValidationError, match="not in the future"):
        mining_account_assign(scope=pp.scope, account_id=account.pk, customer_id=other.pk,
                              effective_on=today + timedelta(days=1), today=today)
    mining_account_assign(scope=pp.scope, account_id=account.pk, customer_id=other.pk, effective_on=today,
                          today=today)
    with pytest.raises(ValidationError, match="cannot start before"):
        mining_account_assign(scope=pp.scope, account_id=account.pk, customer_id=pp.customer.pk,
                              effective_on=today - timedelta(days=1), today=today)
    from billing.models import BillingMonth

    BillingMonth.objects.create(provider=pp.provider, period=(today - timedelta(days=40)).replace(day=1),
                                closed_at=pp.data_now)
    with pytest.raises(ValidationError, match="already closed for billing"):
        mining_account_assign(scope=pp.scope, account_id=account.pk, customer_id=pp.customer.pk,
                              effective_on=today - timedelta(days=45), today=today)
    after_one_move = list(AccountAssignment.objects.values_list("pk", "customer_id", "valid_from", "valid_to"))
    assert len(after_one_move) == len(before) + 1
    with pytest.raises(Http404):  # another provider's customer: the same answer as a missing one
        mining_account_assign(scope=pp.scope, account_id=account.pk, customer_id=world.customer_b1.pk, today=today)
    read_only = Scope(ScopeKind.STAFF, pp.provider.pk, role=StaffRole.READ_ONLY, user_id=world.dave.pk)
    with pytest.raises(PermissionDenied):
        mining_account_assign(scope=read_only, account_id=account.pk, customer_id=pp.customer.pk, today=today)
    assert list(AccountAssignment.objects.values_list("pk", "customer_id", "valid_from", "valid_to")) == \
        after_one_move
    assert MiningAccount.objects.get(pk=account.pk).customer_id == other.pk


def test_the_database_refuses_another_providers_customer(world, pool_provider):
    account = pool_provider.accounts[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        MiningAccount.objects.filter(pk=account.pk).update(customer=world.customer_b1)


def test_the_admin_offers_only_the_providers_customers_and_moves_through_the_service(world, pool_provider, client):
    from django.contrib.auth import get_user_model

    pp = pool_provider
    account = pp.accounts[0]
    other = services.customer_create(provider=pp.provider, name="Other Co", slug="other-co")
    admin_user = get_user_model().objects.create_superuser("root@platform.example", "root@platform.example", "pw")
    login_verified(client, admin_user)  # the admin, too, sits behind the second factor
    url = f"/admin/mining/miningaccount/{account.pk}/change/"
    page = client.get(url).content.decode()
    assert "Other Co" in page and "Miner Co" in page
    assert world.customer_b1.name not in page  # Beta's customer is not offered
    # A forged POST with another provider's customer is a field error and changes nothing.
    response = client.post(url, {"customer": world.customer_b1.pk, "label": "", "is_active": "on"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert MiningAccount.objects.get(pk=account.pk).customer_id == pp.customer.pk
    # A future start day: refused in the form, field by field.
    response = client.post(url, {"customer": other.pk, "label": "", "is_active": "on", "effective_on": "2999-01-01"})
    assert response.status_code == 200 and "not in the future" in response.content.decode()
    assert MiningAccount.objects.get(pk=account.pk).customer_id == pp.customer.pk
    response = client.post(url, {"customer": other.pk, "label": "rack 7", "is_active": "on"})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.customer_id == other.pk and account.label == "rack 7"
    assert AccountAssignment.objects.filter(account=account, valid_to__isnull=True).get().customer_id == other.pk
    actions = set(AuditEntry.objects.filter(object_id=str(account.pk), actor_label__startswith="admin:")
                  .values_list("action", "actor_label"))
    assert actions == {("mining_account.assign", "admin:root@platform.example"),
                       ("mining_account.update", "admin:root@platform.example")}
