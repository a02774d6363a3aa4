"""Tokens are created in the portal too: shown once, usable at once, revocable; only those who may manage them."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from tenants.models import ApiToken
from tests.fixtures.access import login_verified

pytestmark = pytest.mark.django_db


def test_owner_creates_sees_once_and_revokes(world, client):
    login_verified(client, world.alice)
    url = "/p/alpha/api-tokens/"
    page = client.post(url, {"name": "CRM", "scopes": ["read", "write"], "customer": world.customer_a1.pk,
                             "expires_in_days": "30"})
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    token = re.search(r"(wbp_[0-9a-f]{8}_[\w-]+)", page.content.decode()).group(1)
    row = ApiToken.objects.get()
    assert row.customer_id == world.customer_a1.pk and row.scopes == ["read", "write"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert [c["id"] for c in api.get("/api/v1/customers/").json()["results"]] == [world.customer_a1.pk]
    assert token not in client.get(url).content.decode()  # never shown again
    client.post(url, {"revoke": row.pk})
    assert ApiToken.objects.get().revoked_at is not None
    assert api.get("/api/v1/customers/").status_code == 401


def test_bad_input_is_shown_field_by_field_and_creates_nothing(world, client):
    login_verified(client, world.alice)
    page = client.post("/p/alpha/api-tokens/", {"name": "", "scopes": ["root"], "expires_in_days": "0"})
    assert page.status_code == 200 and not ApiToken.objects.exists()
    errors = page.context["form"].errors
    assert set(errors) == {"name", "scopes", "expires_in_days"}


def test_only_those_who_may_manage_tokens(world, client):
    login_verified(client, world.dave)  # read-only staff
    assert client.get("/p/alpha/api-tokens/").status_code == 403
    login_verified(client, world.bob)  # another provider's owner
    assert client.get("/p/alpha/api-tokens/").status_code == 404
    client.force_login(world.carol)  # customer admin: her own customer's tokens
    page = client.post("/c/alpha/carol-mining/api-tokens/", {"name": "mine", "scopes": ["read"]})
    assert page.status_code == 200 and ApiToken.objects.get().customer_id == world.customer_a1.pk
    client.force_login(world.eve)  # customer viewer
    assert client.get("/c/alpha/eve-hashing/api-tokens/").status_code == 403
