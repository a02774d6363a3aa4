"""API tokens: issuing, revoking and recognising them, and the scope a token acts with.

A token reads `wbp_<prefix>_<secret>`: the prefix finds the row (and is safe to show), the whole string is
compared by its SHA-256 in constant time. The plaintext exists only in the return value of `api_token_create`;
it is shown once and never stored, logged or returned again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tenants.access import Capability, Scope, ScopeKind, get_in_scope, scoped
from tenants.audit import audit_record
from tenants.errors import NotAllowed
from tenants.models import ApiToken, ApiTokenScope, Customer

TOKEN_PREFIX = "wbp_"
# last_used_at is written at most this often per token: a busy integration must not turn every read into a write.
LAST_USED_GRANULARITY = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    plaintext: str  # shown to the person once; never stored


def api_token_scopes_clean(scopes: list[str] | tuple[str, ...] | str) -> list[str]:
    """`read,write` or a list → a sorted list of known scopes; at least one; `read` is implied by the others
    (a token that may write but not read back what it wrote is of no use to an integration)."""
    if isinstance(scopes, str):
        scopes = [s for s in (part.strip() for part in scopes.split(",")) if s]
    allowed = set(ApiTokenScope.values)
    unknown = sorted(set(scopes) - allowed)
    if unknown:
        raise ValidationError({"scopes": f"Unknown scope(s): {', '.join(unknown)}. Use read, write and/or billing."})
    if not scopes:
        raise ValidationError({"scopes": "Give at least one scope: read, write, billing."})
    return sorted(set(scopes) | {ApiTokenScope.READ.value})


def api_token_create(
    *,
    scope: Scope,
    name: str,
    scopes: list[str] | str,
    customer_id: int | None = None,
    expires_in_days: int | None = None,
    now: datetime | None = None,
) -> IssuedToken:
    """Issue a token for the scope's provider, or for one of its customers (a customer's own integrations).

    Managing tokens is managing credentials: provider owners and admins (and customer admins, for their own
    customer) may do it; a token can never mint another token.
    """
    if scope.token_id is not None:
        raise NotAllowed("An API token cannot create API tokens; create them in the portal.")
    if scope.kind == ScopeKind.CUSTOMER:
        scope.require(Capability.MANAGE_CUSTOMER_USERS)
        customer_id = scope.customer_id
    else:
        scope.require(Capability.MANAGE_CREDENTIALS)
    now = now or timezone.now()
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name or len(name) > 100:
        errors["name"] = "Give the token a name of 1–100 characters (what uses it)."
    try:
        clean_scopes = api_token_scopes_clean(scopes)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
        errors["expires_in_days"] = "Expiry must be between 1 and 3650 days (or none)."
    if errors:
        raise ValidationError(errors)
    customer = get_in_scope(Customer, scope, pk=customer_id) if customer_id is not None else None
    prefix = secrets.token_hex(4)
    plaintext = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            provider_id=scope.provider_id,
            customer=customer,
            name=name,
            prefix=prefix,
            token_hash=_hash(plaintext),
            scopes=clean_scopes,
            created_by_id=scope.user_id,
            created_at=now,
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        )
        audit_record(scope=scope, action="api_token.create", target=token,
                     after={"name": name, "scopes": clean_scopes, "customer": customer_id,
                            "expires_at": token.expires_at})
    return IssuedToken(token, plaintext)


def api_token_revoke(*, scope: Scope, token_id: int, now: datetime | None = None) -> ApiToken:
    """Revoke at once; idempotent (revoking a revoked token changes nothing and writes no entry)."""
    if scope.kind == ScopeKind.CUSTOMER:
        scope.require(Capability.MANAGE_CUSTOMER_USERS)
    else:
        scope.require(Capability.MANAGE_CREDENTIALS)
    with transaction.atomic():
        token = get_in_scope(ApiToken.objects.select_for_update(), scope, pk=token_id)
        if token.revoked_at is None:
            token.revoked_at = now or timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(scope=scope, action="api_token.revoke", target=token,
                         before={"revoked_at": None}, after={"revoked_at": token.revoked_at})
    return token


def api_token_list(*, scope: Scope):
    return scoped(ApiToken, scope).select_related("customer").order_by("-created_at", "-id")


class TokenRejected(Exception):
    """The presented token is unknown, malformed, expired or revoked (all answered 401, with the reason)."""


def api_token_authenticate(plaintext: str, *, now: datetime | None = None) -> ApiToken:
    """The live token for this plaintext, its last use recorded (at most once a minute). Raises TokenRejected.

    This is the one lookup that cannot take a scope: the token *is* how the scope is found.
    """
    now = now or timezone.now()
    parts = plaintext.split("_")
    if not plaintext.startswith(TOKEN_PREFIX) or len(parts) < 3 or len(parts[1]) != 8:
        raise TokenRejected("Malformed API token.")
    token = (
        ApiToken.objects.select_related("provider").filter(prefix=parts[1]).first()  # the scope's root, by design
    )
    if token is None or not hmac.compare_digest(token.token_hash, _hash(plaintext)):
        raise TokenRejected("Unknown API token.")
    if token.revoked_at is not None:
        raise TokenRejected("This API token has been revoked.")
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRejected("This API token has expired.")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def scope_for_token(token: ApiToken) -> Scope:
    """A token is a scope whose capabilities are the token's scopes; audit entries name it."""
    kind = ScopeKind.CUSTOMER if token.customer_id else ScopeKind.STAFF
    return Scope(kind, token.provider_id, token.customer_id, "", None, token.pk,
                 f"token “{token.name}” ({token.prefix})", tuple(token.scopes))
