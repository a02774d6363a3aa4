"""Encryption at rest for upstream API secrets.

MultiFernet over `settings.FIELD_ENCRYPTION_KEYS`: the first key encrypts, every key decrypts, so a new key
can be put first, `rotate_encryption_keys` run, and the old key removed without a moment of unreadable rows.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["InvalidToken", "secret_decrypt", "secret_encrypt", "secret_rotate"]


@lru_cache(maxsize=8)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: no key to encrypt secrets with")
    try:
        return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])
    except ValueError as exc:  # a key that is not 32 url-safe base64 bytes
        raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS holds an invalid Fernet key: {exc}") from exc


def _current() -> MultiFernet:
    # Read settings on every call so override_settings and key rotation take effect without a restart.
    return _multifernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def secret_encrypt(plaintext: str) -> str:
    """Encrypt under the first key; the token is ASCII and safe to store in a text column."""
    return _current().encrypt(plaintext.encode("utf-8")).decode("ascii")


def secret_decrypt(token: str) -> str:
    """Decrypt with whichever configured key made the token; raises InvalidToken when none did."""
    return _current().decrypt(token.encode("ascii")).decode("utf-8")


def secret_rotate(token: str) -> str:
    """Re-encrypt under the first key, keeping the plaintext out of Python strings where we can."""
    return _current().rotate(token.encode("ascii")).decode("ascii")
