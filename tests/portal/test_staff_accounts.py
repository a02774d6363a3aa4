"""Importing the pool's accounts from the console (a task after the commit) and assigning them, dated."""

from __future__ import annotations

from datetime import timedelta

from mining.models import AccountAssignment, MiningAccount
from mining.tasks import mining_accounts_import_task
from tenants import services
from tenants.models import AuditEntry, StaffRole
from tests.fixtures.access import login_verified


def test_import_runs_after_the_commit_and_twice_changes_nothing(db, sandbox_pool, client,
                                                                 django_capture_on_commit_callbacks):
    provider = services.provider_create(name="Fresh Hosting", slug="fresh", upstream_base_url=sandbox_pool.base_url,
                                        api_key=sandbox_pool.api_key, api_secret=sandbox_pool.api_secret)
    owner = services.user_get_or_create(email="owner@fresh.example", password="fresh-hosting-password")
    services.provider_membership_grant(provider=provider, user=owner, role=StaffRole.OWNER)
    login_verified(client, owner)
    assert "No mining accounts yet" in client.get("/p/fresh/accounts/").content.decode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert client.post("/p/fresh/accounts/import/").status_code == 302
    assert len(callbacks) == 1 and not MiningAccount.objects.filter(provider=provider).exists()
    result = mining_accounts_import_task.apply(args=[provider.pk]).get()  # the worker's job, run here
    names = set(MiningAccount.objects.filter(provider=provider).values_list("name", flat=True))
    assert set(sandbox_pool.seeded_accounts()) <= names and result["created"] == len(names)
    again = mining_accounts_import_task.apply(args=[provider.pk]).get()
    assert again == {"created": 0, "updated": 0, "unchanged": len(names)}
    page = client.get("/p/fresh/accounts/").content.decode()
    assert all(n in page for n in names) and page.count(">unassigned<") == len(names)
    assert AuditEntry.objects.filter(provider=provider, action="mining_account.import_request").count() == 1


def test_assign_is_dated_and_a_future_day_is_refused_in_words(pool_provider, client, time_machine):
    pp = pool_provider
    time_machine.move_to(pp.data_now, tick=False)
    other = services.customer_create(provider=pp.provider, name="Other Co", slug="other-co")
    owner = services.user_get_or_create(email="owner@pool.example", password="pool-owner-password")
    services.provider_membership_grant(provider=pp.provider, user=owner, role=StaffRole.OWNER)
    login_verified(client, owner)
    account = pp.accounts[0]
    future = (pp.data_now + timedelta(days=2)).date().isoformat()
    page = client.post(f"/p/{pp.provider.slug}/accounts/{account.pk}/assign/",
                       {"customer": other.pk, "effective_on": future}, follow=True).content.decode()
    assert "not in the future" in page
    assert MiningAccount.objects.get(pk=account.pk).customer_id == pp.customer.pk
    day = (pp.data_now - timedelta(days=3)).date()
    page = client.post(f"/p/{pp.provider.slug}/accounts/{account.pk}/assign/",
                       {"customer": other.pk, "effective_on": day.isoformat()}, follow=True).content.decode()
    assert f"{account.name} is now held by Other Co" in page
    periods = set(AccountAssignment.objects.filter(account=account).values_list("customer_id", "valid_to"))
    assert periods == {(pp.customer.pk, day), (other.pk, None)}  # the past stays with Miner Co


def test_read_only_staff_see_no_forms_and_cannot_post(pool_provider, client):
    pp = pool_provider
    reader = services.user_get_or_create(email="reader@pool.example", password="pool-reader-password")
    services.provider_membership_grant(provider=pp.provider, user=reader, role=StaffRole.READ_ONLY)
    login_verified(client, reader)
    page = client.get(f"/p/{pp.provider.slug}/accounts/").content.decode()
    assert pp.accounts[0].name in page and "Import accounts" not in page and ">Assign</button>" not in page
    assert client.post(f"/p/{pp.provider.slug}/accounts/import/").status_code == 403
    assert client.post(f"/p/{pp.provider.slug}/accounts/{pp.accounts[0].pk}/assign/",
                       {"customer": ""}).status_code == 403
