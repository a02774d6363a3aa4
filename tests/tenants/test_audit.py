"""The audit log's core: one entry per write, the right actor and tenant, never a secret, gone with a rollback."""

from __future__ import annotations

import pytest
from django.db import transaction

from tenants.access import scope_for_system
from tenants.audit import REDACTED, audit_record, audit_request_context
from tenants.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_entry_names_user_tenant_object_and_only_changed_fields(world):
    scope = world.scope(world.alice, world.provider_a)
    with audit_request_context(ip_address="203.0.113.7"):
        entry = audit_record(scope=scope, action="customer.update", target=world.customer_a1,
                             before={"name": "Old", "status": "active"}, after={"name": "Carol Mining",
                                                                               "status": "active"})
    assert entry.actor_kind == AuditEntry.ActorKind.USER and entry.actor_user_id == world.alice.pk
    assert entry.actor_label == "alice@alpha.example"
    assert entry.provider_id == world.provider_a.pk and entry.customer_id == world.customer_a1.pk
    assert entry.object_type == "tenants.customer" and entry.object_id == str(world.customer_a1.pk)
    assert entry.changes == {"name": ["Old", "Carol Mining"]}
    assert entry.ip_address == "203.0.113.7"


def test_secret_values_never_reach_the_log(world):
    scope = world.scope(world.alice, world.provider_a)
    entry = audit_record(scope=scope, action="provider.credentials_set", target=world.provider_a,
                         before={"api_secret": "old-PLAINTEXT", "whitebit_api_key": "k1"},
                         after={"api_secret": "new-PLAINTEXT", "whitebit_api_key": "k2"})
    assert entry.changes["api_secret"] == [None, REDACTED]
    assert "PLAINTEXT" not in str(AuditEntry.objects.filter(pk=entry.pk).values().get())


def test_system_actor_and_rollback_leaves_no_entry(world):
    scope = scope_for_system(provider_id=world.provider_a.pk, actor="task:close_month")
    before = AuditEntry.objects.count()  # the world's own setup is audited too
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(scope=scope, action="statement.close", object_type="billing.statement", object_id=1)
        raise RuntimeError("the write failed")
    assert AuditEntry.objects.count() == before
    entry = audit_record(scope=scope, action="statement.close", object_type="billing.statement", object_id=1)
    assert entry.actor_kind == AuditEntry.ActorKind.SYSTEM and entry.actor_label == "task:close_month"
    assert entry.actor_user_id is None
