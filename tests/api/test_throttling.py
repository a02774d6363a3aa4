"""Throttling is per token, on Redis in real deployments and on process memory in the embedded default."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import caches

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["redis", "locmem"])
def cache_backend(request, settings, redis_url):
    backend = {
        "redis": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url},
        "locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex},
    }[request.param]
    settings.CACHES = {"default": {**backend, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}
    yield request.param
    caches["default"].clear() if request.param == "locmem" else None


def test_each_token_has_its_own_budget(api_world, settings, cache_backend):
    settings.API_THROTTLE_RATE = "3/min"
    busy, other = api_world.client("a_read"), api_world.client("a_write")
    assert [busy.get("/api/v1/alerts/").status_code for _ in range(3)] == [200, 200, 200]
    refused = busy.get("/api/v1/alerts/")
    assert refused.status_code == 429
    assert refused.json()["error"]["type"] == "rate_limited" and int(refused["Retry-After"]) > 0
    assert other.get("/api/v1/alerts/").status_code == 200  # another token is not slowed by the busy one
