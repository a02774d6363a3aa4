"""Where a provider's upstream pool may live: WhiteBIT's own hosts, or a sandbox pool on loopback outside production.

Why this is a rule of the model and not of one form: the portal signs requests to this URL with the provider's
API secret from inside the network, so an arbitrary URL would be a server-side request forgery (and a way to hand
the secret's signatures to anyone). Checked in `Provider.clean_fields`, so every ModelForm, the admin and every
service that calls `full_clean()` inherit it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

#: The pool's production hosts (contract §1). Exactly these origins: no path, port, user or query.
WHITEBIT_ORIGINS = ("https://whitebit.com", "https://whitebit.eu")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def validate_upstream_url(value: str) -> None:
    """Accept https://whitebit.com or https://whitebit.eu; http(s) on loopback only where settings allow a sandbox."""
    if value.rstrip("/") in WHITEBIT_ORIGINS:
        return
    try:
        parts = urlsplit(value)
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
        parts = None
    sandbox = (
        parts is not None
        and parts.scheme in {"http", "https"}
        and host in LOOPBACK_HOSTS
        and port is not None
        and parts.path in {"", "/"}
        and not (parts.query or parts.fragment or parts.username or parts.password)
    )
    if sandbox and getattr(settings, "WHITEBIT_SANDBOX_ALLOWED", False):
        return
    allowed = " or ".join(WHITEBIT_ORIGINS)
    if sandbox:
        raise ValidationError(f"A sandbox pool URL is not allowed here; use {allowed}.", code="upstream_sandbox")
    sandbox_allowed = getattr(settings, "WHITEBIT_SANDBOX_ALLOWED", False)
    hint = " (or a sandbox pool as http://127.0.0.1:PORT)" if sandbox_allowed else ""
    raise ValidationError(f"The pool URL must be {allowed}{hint}.", code="upstream_host")
