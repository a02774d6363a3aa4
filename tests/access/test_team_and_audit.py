"""Team pages and the audit log: the last owner stays, roles change only by those allowed, every write leaves one
entry with the right before/after and no secret, staff and customer admins read their own log, nobody edits it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tenants import services
from tenants.models import AuditEntry, ProviderMembership
from tenants.services.team import customer_user_remove, staff_remove, staff_role_change
from tests.access.helpers import no_secret_in, one_audit_entry
from tests.fixtures.access import login_verified


def _membership(user, provider):
    return ProviderMembership.objects.get(user=user, provider=provider)


def test_the_last_owner_can_be_neither_demoted_nor_removed(world):
    alice = world.scope(world.alice, world.provider_a)
    owner = _membership(world.alice, world.provider_a)
    with pytest.raises(ValidationError, match="last owner"):
        staff_role_change(scope=alice, membership_id=owner.pk, role="admin")
    with pytest.raises(ValidationError, match="last owner"):
        staff_remove(scope=alice, membership_id=owner.pk)
    assert _membership(world.alice, world.provider_a).role == "owner"
    # With a second owner, the first may step down.
    staff_role_change(scope=alice, membership_id=_membership(world.dave, world.provider_a).pk, role="owner")
    with one_audit_entry("provider_membership.update") as entries:
        staff_role_change(scope=alice, membership_id=owner.pk, role="admin")
    assert entries[0].changes == {"role": ["owner", "admin"]}


def test_only_owners_touch_owners_and_read_only_staff_touch_nobody(world):
    admin_user = services.user_get_or_create(email="admin@alpha.example", password="x-long-password-1")
    services.provider_membership_grant(provider=world.provider_a, user=admin_user, role="admin")
    admin = world.scope(admin_user, world.provider_a)
    owner = _membership(world.alice, world.provider_a)
    with pytest.raises(ValidationError, match="Only an owner"):
        staff_remove(scope=admin, membership_id=owner.pk)
    with pytest.raises(ValidationError):
        staff_role_change(scope=admin, membership_id=_membership(world.dave, world.provider_a).pk, role="owner")
    with pytest.raises(PermissionDenied):
        staff_remove(scope=world.scope(world.dave, world.provider_a), membership_id=owner.pk)
    with one_audit_entry("provider_membership.delete") as entries:
        staff_remove(scope=admin, membership_id=_membership(world.dave, world.provider_a).pk)
    assert entries[0].changes["role"] == ["read_only", None]


def test_team_page_forms_answer_field_by_field_and_change_nothing(world, client):
    login_verified(client, world.alice)
    page = client.get("/p/alpha/team/")
    assert page.status_code == 200 and b"dave@alpha.example" in page.content
    count = AuditEntry.objects.count()
    dave = _membership(world.dave, world.provider_a)
    page = client.post(f"/p/alpha/team/{dave.pk}/role/", {"role": "emperor"}, follow=True)
    assert b"Choose owner, admin, operator or read-only." in page.content
    page = client.post(f"/p/alpha/team/{_membership(world.alice, world.provider_a).pk}/remove/", follow=True)
    assert b"last owner" in page.content
    assert AuditEntry.objects.count() == count and _membership(world.dave, world.provider_a).role == "read_only"
    client.post(f"/p/alpha/team/{dave.pk}/role/", {"role": "operator"})
    assert _membership(world.dave, world.provider_a).role == "operator"


def test_a_customer_admin_sees_their_users_and_removes_viewers_only(world, client):
    services.customer_membership_grant(customer=world.customer_a1, user=world.eve, role="viewer")
    client.force_login(world.carol)
    page = client.get("/c/alpha/carol-mining/team/")
    assert page.status_code == 200 and b"eve@eve.example" in page.content and b"dave@" not in page.content
    carol = world.scope(world.carol, world.provider_a, world.customer_a1)
    with pytest.raises(ValidationError, match="viewers"):  # no promoting a viewer to admin from the customer side
        services.customer_membership_grant(customer=world.customer_a1, user=world.eve, role="admin", scope=carol)
    own = world.carol.customer_memberships.get()
    with pytest.raises(ValidationError, match="viewers"):
        customer_user_remove(scope=carol, membership_id=own.pk)
    eve = world.eve.customer_memberships.get(customer=world.customer_a1)
    with one_audit_entry("customer_membership.delete") as entries:
        assert client.post(f"/c/alpha/carol-mining/team/{eve.pk}/remove/").status_code == 302
    assert entries[0].customer_id == world.customer_a1.pk
    client.force_login(world.eve)  # a viewer has no team page
    assert client.get("/c/alpha/eve-hashing/team/").status_code == 403


def test_tenant_writes_leave_one_entry_each_with_no_secret(world):
    staff = world.scope(world.alice, world.provider_a)
    with one_audit_entry("provider.credentials_set") as entries:
        services.provider_credentials_set(provider=world.provider_a, api_key="alpha-key-2",
                                          api_secret="NEW-SECRET-PLAINTEXT", scope=staff)
    assert entries[0].changes["whitebit_api_key"] == ["alpha-key", "alpha-key-2"]
    assert entries[0].changes["api_secret_ciphertext"] == [None, "(changed, not recorded)"]
    no_secret_in(entries[0], "NEW-SECRET-PLAINTEXT", "alpha-secret-PLAINTEXT-1",
                 world.provider_a.api_secret_ciphertext)
    with one_audit_entry("provider.credentials_set") as entries:  # blank secret keeps it: no secret change shown
        services.provider_credentials_set(provider=world.provider_a, api_key="alpha-key-3", api_secret="",
                                          scope=staff)
    assert set(entries[0].changes) == {"whitebit_api_key"}
    with pytest.raises(PermissionDenied):
        services.provider_credentials_set(provider=world.provider_a, api_key="x", api_secret="",
                                          scope=world.scope(world.dave, world.provider_a))
    with one_audit_entry("customer.create") as entries:
        services.customer_create(provider=world.provider_a, name="New Co", slug="new-co", scope=staff)
    assert entries[0].changes["name"] == [None, "New Co"] and entries[0].actor_label == "alice@alpha.example"
    with one_audit_entry("customer_membership.create"):
        services.customer_membership_grant(customer=world.customer_a2, user=world.carol, role="viewer", scope=staff)
    with one_audit_entry("provider.create") as entries:
        provider = services.provider_create(name="Gamma", slug="gamma", upstream_base_url="https://whitebit.com",
                                            api_secret="GAMMA-PLAINTEXT", actor="command:test")
    assert entries[0].provider_id == provider.pk and entries[0].actor_label == "command:test"
    no_secret_in(entries[0], "GAMMA-PLAINTEXT")


def test_staff_read_and_filter_their_providers_log(world, client):
    login_verified(client, world.dave)
    base = AuditEntry.objects.filter(provider=world.provider_a)
    page = client.get("/p/alpha/audit/")
    assert page.status_code == 200 and b"customer.create" in page.content and b"Beta Hosting" not in page.content
    page = client.get("/p/alpha/audit/", {"object_type": "tenants.customer",
                                          "object_id": str(world.customer_a2.pk)})
    assert b"Eve Hashing" in page.content and b"Carol Mining</td>" not in page.content
    AuditEntry.objects.filter(pk=base.filter(action="customer.create").first().pk).update(
        created_at=dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC), actor_label="old@alpha.example")
    page = client.get("/p/alpha/audit/", {"date_from": "2026-01-05", "date_to": "2026-01-05"})
    assert page.content.count(b"<code>") == 1 and b"old@alpha.example" in page.content
    page = client.get("/p/alpha/audit/", {"user": "OLD@alpha.example"})
    assert page.content.count(b"<code>") == 1
    page = client.get("/p/alpha/audit/", {"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert page.status_code == 400 and b"The end date is before the start date." in page.content


def test_a_customer_admin_reads_only_entries_about_their_customer(world, client):
    client.force_login(world.carol)
    page = client.get("/c/alpha/carol-mining/audit/")
    assert page.status_code == 200 and b"Carol Mining" in page.content
    assert b"Eve Hashing" not in page.content and b"provider.create" not in page.content
    client.force_login(world.eve)
    assert client.get("/c/alpha/eve-hashing/audit/").status_code == 403  # viewers do not read the log


def test_the_log_cannot_be_edited_from_the_product(world, client, django_user_model):
    login_verified(client, world.alice)
    entry = AuditEntry.objects.filter(provider=world.provider_a).first()
    before = AuditEntry.objects.count()
    assert client.post("/p/alpha/audit/", {"object_type": "x"}).status_code == 405  # the log page only reads
    root = django_user_model.objects.create_superuser("root@platform.example", "root@platform.example", "pw-long-1")
    login_verified(client, root)
    assert client.get("/admin/tenants/auditentry/").status_code == 200
    assert client.get("/admin/tenants/auditentry/add/").status_code == 403
    assert client.post(f"/admin/tenants/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    page = client.post(f"/admin/tenants/auditentry/{entry.pk}/change/", {"action": "forged"})
    assert page.status_code == 403
    assert AuditEntry.objects.count() == before and AuditEntry.objects.get(pk=entry.pk).action == entry.action
