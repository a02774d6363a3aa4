"""Builds the WhiteBIT client for a provider, wired to the fleet-wide rate budget and nonce source.

With Redis configured (every real deployment) the budget and the nonces live in Redis, shared by every worker
on every machine; in the embedded mode they fall back to in-process equivalents (one machine, few processes).
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from mining.whitebit.client import WhiteBitClient
from mining.whitebit.nonce import LocalNonceSource, RedisNonceSource
from mining.whitebit.ratelimit import LocalRateBudget, RateBudget
from tenants.models import Provider


@lru_cache(maxsize=4)
def _shared_parts(redis_url: str, fraction: float, limit: int, window_s: float, prefix: str):
    if redis_url:
        import redis

        # Timeouts: a Redis that accepts and never answers must fail a sync (retried), not hang it.
        timeout_s = settings.REDIS_SOCKET_TIMEOUT_S
        client = redis.Redis.from_url(redis_url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        return (
            RateBudget(client, limit=limit, window_s=window_s, fraction=fraction, key_prefix=f"{prefix}budget:"),
            RedisNonceSource(client, key_prefix=f"{prefix}nonce:"),
        )
    lock_dir = settings.VAR_DIR / "nonces"
    lock_dir.mkdir(parents=True, exist_ok=True)
    return LocalRateBudget(limit=limit, window_s=window_s, fraction=fraction), LocalNonceSource(lock_dir=lock_dir)


def shared_budget_and_nonces():
    """The process-wide budget and nonce source (one per settings combination, reused by every client)."""
    return _shared_parts(
        settings.REDIS_URL,
        settings.WHITEBIT_RATE_BUDGET_FRACTION,
        settings.WHITEBIT_RATE_LIMIT,
        settings.WHITEBIT_RATE_WINDOW_S,
        settings.WHITEBIT_REDIS_PREFIX,
    )


def client_for_provider(provider: Provider) -> WhiteBitClient:
    """A client signing with the provider's (decrypted) credentials. Do not keep it beyond the task."""
    return client_for_credentials(
        base_url=provider.upstream_base_url, api_key=provider.whitebit_api_key, api_secret=provider.reveal_api_secret()
    )


def client_for_credentials(*, base_url: str, api_key: str, api_secret: str) -> WhiteBitClient:
    """A client for credentials not stored yet (checking them before saving a provider)."""
    budget, nonces = shared_budget_and_nonces()
    return WhiteBitClient(
        base_url,
        api_key,
        api_secret,
        timeout_s=settings.WHITEBIT_TIMEOUT_S,
        budget=budget,
        nonces=nonces,
        max_retries=settings.WHITEBIT_MAX_RETRIES,
        backoff_base_s=settings.WHITEBIT_BACKOFF_BASE_S,
        backoff_cap_s=settings.WHITEBIT_BACKOFF_CAP_S,
    )
