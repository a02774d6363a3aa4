"""Tokens: printed once, stored hashed, scoped, expiring, revocable, their use recorded, their writes audited as
themselves; sessions work too, with CSRF enforced."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from tenants.access import Capability, scope_for_system
from tenants.models import ApiToken, AuditEntry, Customer
from tenants.tokens import api_token_revoke, scope_for_token
from tests.api.conftest import token_make
from tests.fixtures.access import login_verified

pytestmark = pytest.mark.django_db


def _bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_command_prints_only_the_token_which_is_stored_hashed(world):
    out, err = io.StringIO(), io.StringIO()
    call_command("api_token_create", "--provider", "alpha", "--customer", "carol-mining", "--scopes", "read,write",
                 "--expires-days", "30", "--name", "carol-crm", stdout=out, stderr=err)
    printed = out.getvalue()
    token = printed.strip()
    assert printed == token + "\n" and token.startswith("wbp_")
    row = ApiToken.objects.get()
    assert row.customer_id == world.customer_a1.pk and row.scopes == ["read", "write"] and row.name == "carol-crm"
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(list(ApiToken.objects.values())) and token not in str(list(AuditEntry.objects.values()))
    assert timedelta(days=29, hours=23) < row.expires_at - timezone.now() <= timedelta(days=30)
    assert _bearer(token).get("/api/v1/customers/").json()["results"][0]["id"] == world.customer_a1.pk


def test_command_refuses_unknown_names_and_scopes(world):
    with pytest.raises(CommandError, match="No provider"):
        call_command("api_token_create", "--provider", "nope", "--scopes", "read", stdout=io.StringIO())
    with pytest.raises(CommandError, match="No customer"):
        call_command("api_token_create", "--provider", "beta", "--customer", "eve-hashing", "--scopes", "read",
                     stdout=io.StringIO())
    with pytest.raises(CommandError, match="Unknown scope"):
        call_command("api_token_create", "--provider", "alpha", "--scopes", "read,admin", stdout=io.StringIO())
    assert not ApiToken.objects.exists()


def test_scopes_are_capabilities_within_the_kind(world):
    provider = token_make(world.provider_a, scopes="write")  # read is implied
    customer = token_make(world.provider_a, scopes="read,write,billing", customer=world.customer_a1)
    p_scope = scope_for_token(ApiToken.objects.get(customer=None))
    c_scope = scope_for_token(ApiToken.objects.get(customer=world.customer_a1))
    assert provider and customer
    assert p_scope.can(Capability.VIEW) and p_scope.can(Capability.MANAGE_ACCOUNTS)
    assert not p_scope.can(Capability.MANAGE_CREDENTIALS) and not p_scope.can(Capability.MANAGE_BILLING)
    assert c_scope.can(Capability.MANAGE_PAYOUT) and not c_scope.can(Capability.MANAGE_ACCOUNTS)
    assert not c_scope.can(Capability.MANAGE_BILLING)  # billing writes are the provider's


def test_read_only_token_cannot_write_and_nothing_changes(api_world):
    before = Customer.objects.count()
    response = api_world.client("a_read").post("/api/v1/customers/", {"name": "N", "slug": "n"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"] == {"type": "permission_error", "code": "permission_denied",
                                        "message": "This API token's scopes (read) do not allow this."}
    account = api_world.a1["account"]
    response = api_world.client("a_read").put(f"/api/v1/mining-accounts/{account.pk}/payout-destination/",
                                              {"destination": "main_balance"}, format="json",
                                              HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 403
    assert Customer.objects.count() == before and not AuditEntry.objects.filter(actor_kind="token").exists()


@pytest.mark.parametrize("state", ["expired", "revoked", "unknown", "malformed"])
def test_dead_tokens_get_401_with_the_reason(world, state):
    now = timezone.now()
    token = token_make(world.provider_a, scopes="read", expires_in_days=1 if state == "expired" else None,
                       now=now - timedelta(days=2) if state == "expired" else None)
    if state == "revoked":
        api_token_revoke(scope=scope_for_system(provider_id=world.provider_a.pk), token_id=ApiToken.objects.get().pk)
    if state == "unknown":
        token = token[:-4] + "AAAA"
    if state == "malformed":
        token = "not-a-token"
    response = _bearer(token).get("/api/v1/customers/")
    assert response.status_code == 401
    words = {"expired": "expired", "revoked": "revoked", "unknown": "Unknown", "malformed": "Malformed"}[state]
    assert words in response.json()["error"]["message"]


def test_last_use_is_recorded_at_most_once_a_minute(world):
    token = token_make(world.provider_a, scopes="read")
    assert ApiToken.objects.get().last_used_at is None
    _bearer(token).get("/api/v1/customers/")
    first = ApiToken.objects.get().last_used_at
    assert first is not None and timezone.now() - first < timedelta(minutes=1)
    _bearer(token).get("/api/v1/customers/")
    assert ApiToken.objects.get().last_used_at == first
    ApiToken.objects.update(last_used_at=first - timedelta(minutes=5))
    _bearer(token).get("/api/v1/customers/")
    assert ApiToken.objects.get().last_used_at > first - timedelta(minutes=5)


def test_session_works_with_csrf_enforced(api_world):
    w = api_world.world
    client = APIClient(enforce_csrf_checks=True)
    login_verified(client, w.alice)
    assert client.get("/api/v1/customers/").status_code == 200
    refused = client.post("/api/v1/customers/", {"name": "N", "slug": "n"}, format="json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]["message"]
    assert not Customer.objects.filter(slug="n").exists()
    client.get("/login/")  # sets the CSRF cookie, as the portal's pages do
    csrf = client.cookies["csrftoken"].value
    made = client.post("/api/v1/customers/", {"name": "N", "slug": "n"}, format="json", HTTP_X_CSRFTOKEN=csrf)
    assert made.status_code == 201
    entry = AuditEntry.objects.get(action="customer.create", object_id=str(made.json()["id"]))
    assert entry.actor_kind == "user" and entry.actor_user_id == w.alice.pk


def test_session_user_with_several_workspaces_names_one(api_world):
    from tenants import services
    from tenants.models import StaffRole

    w = api_world.world
    services.provider_membership_grant(provider=w.provider_b, user=w.alice, role=StaffRole.READ_ONLY)
    client = APIClient()
    login_verified(client, w.alice)
    assert client.get("/api/v1/customers/").json()["error"]["code"] == "workspace_required"
    ids = [c["id"] for c in client.get("/api/v1/customers/", HTTP_X_PROVIDER="beta").json()["results"]]
    assert ids == [w.customer_b1.pk]
    assert client.get("/api/v1/customers/", HTTP_X_PROVIDER="gamma").status_code == 404


def test_tokens_managed_in_the_portal_shown_once_and_revocable(api_world):
    w = api_world.world
    client = APIClient()
    login_verified(client, w.alice)
    made = client.post("/api/v1/tokens/", {"name": "grafana", "scopes": ["read"], "expires_in_days": 90},
                       format="json")
    assert made.status_code == 201 and made["Cache-Control"] == "no-store"
    body = made.json()
    plaintext = body["token"]
    listed = client.get("/api/v1/tokens/").json()["results"]
    assert plaintext not in str(listed) and body["prefix"] in plaintext
    assert _bearer(plaintext).get("/api/v1/alerts/").status_code == 200
    # A token can neither see nor mint tokens.
    assert _bearer(plaintext).get("/api/v1/tokens/").json()["results"] == []
    assert _bearer(plaintext).post("/api/v1/tokens/", {"name": "x", "scopes": ["read"]},
                                   format="json").status_code == 403
    revoked = client.delete(f"/api/v1/tokens/{body['id']}/")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert _bearer(plaintext).get("/api/v1/alerts/").status_code == 401
    assert [e.action for e in AuditEntry.objects.order_by("id")][-2:] == ["api_token.create", "api_token.revoke"]
    dave = APIClient()
    login_verified(dave, w.dave)  # read-only staff: may not manage credentials
    assert dave.post("/api/v1/tokens/", {"name": "x", "scopes": ["read"]}, format="json").status_code == 403
