"""What production refuses to start with. Pure functions of the settings' values, so settings.py stays readable.

Why refuse at start instead of warning: every item below fails open or late otherwise (a public key signs
sessions, an SQLite file loses data between containers, a filesystem broker silently splits the queue per
container, `*` answers any Host header, a mistyped encryption key only fails on the first secret read).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

#: A SECRET_KEY below this many bits of (letter-frequency) entropy is refused; 50 random characters give ~290.
SECRET_KEY_MIN_BITS = 128


def secret_key_is_weak(key: str) -> bool:
    """Too short, a repeated pattern, Django's own insecure prefix, or too few bits of letter-frequency entropy.

    `openssl rand -hex 32` (64 hex digits, ~250 bits) and `secrets.token_urlsafe(50)` both pass; "abcde" * 10 or
    "password" * 7 do not.
    """
    if len(key) < 50 or key.startswith("django-insecure-"):
        return True
    for period in range(1, len(key) // 2 + 1):
        if all(key[i] == key[i % period] for i in range(len(key))):
            return True
    n = len(key)
    bits = -sum(c * math.log2(c / n) for c in Counter(key).values())
    return bits < SECRET_KEY_MIN_BITS


def fernet_key_problems(keys: Iterable[str]) -> list[str]:
    """The position (1-based) of every key that cryptography's Fernet does not accept."""
    from cryptography.fernet import Fernet

    bad = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.strip().encode())
        except (ValueError, TypeError):
            bad.append(str(position))
    return bad


def production_problems(
    *,
    secret_key: str,
    dev_secret_key: str,
    field_keys: list[str],
    dev_field_key: str,
    allowed_hosts: list[str],
    debug: bool,
    database_url_set: bool,
    database_engine: str,
    redis_url: str,
    broker_url: str,
    sync_time_limit_s: int,
    sync_lease_s: int,
    visibility_timeout_s: int | None,
) -> list[str]:
    """Every reason production must not start, in words an operator can act on (empty: all good)."""
    problems = []
    if secret_key == dev_secret_key or secret_key_is_weak(secret_key):
        problems.append(
            "SECRET_KEY must be set to a random value of at least 50 characters "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(50))'`)"
        )
    if not field_keys or dev_field_key in field_keys:
        problems.append("FIELD_ENCRYPTION_KEYS must list at least one Fernet key of your own")
    else:
        bad = fernet_key_problems(field_keys)
        if bad:
            problems.append(
                f"FIELD_ENCRYPTION_KEYS: key(s) {', '.join(bad)} are not valid Fernet keys (32 url-safe "
                "base64-encoded bytes; make one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`)"
            )
    if not allowed_hosts:
        problems.append("ALLOWED_HOSTS must name the host(s) the portal is served on")
    elif "*" in allowed_hosts:
        problems.append("ALLOWED_HOSTS must not contain '*': name the host(s) the portal is served on")
    if debug:
        problems.append("DEBUG must be off")
    if not database_url_set:
        problems.append("DATABASE_URL must point at PostgreSQL")
    elif database_engine != "django.db.backends.postgresql":
        problems.append("DATABASE_URL must point at PostgreSQL (SQLite is for trying the portal on one machine)")
    if not redis_url:
        problems.append("REDIS_URL must point at Redis (cache, rate budget and broker; no filesystem broker)")
    if broker_url.split(":", 1)[0] in {"filesystem", "memory"}:
        problems.append("CELERY_BROKER_URL must point at Redis, not the embedded filesystem/memory broker")
    if visibility_timeout_s is not None and not sync_lease_s < sync_time_limit_s < visibility_timeout_s:
        problems.append(
            "MINING_SYNC_LEASE_S < MINING_SYNC_TIME_LIMIT_S < CELERY_VISIBILITY_TIMEOUT must hold "
            f"(now {sync_lease_s} / {sync_time_limit_s} / {visibility_timeout_s}): the lease is short and renewed "
            "before each dataset, so a dead sync lets its account go quickly, and the broker must not redeliver "
            "a task that is still running"
        )
    return problems
