"""The audit log's one way in: `audit_record(...)`, called by every service that writes, in its transaction.

Why one function: the rules (who the actor is, which tenant, never a secret, the caller's address) live here
once, so a new service cannot record them differently. The caller's address comes from a context variable the
web middleware sets per request (`audit_request_context`), so services keep taking only `scope=`.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import decimal
import re
from collections.abc import Iterator, Mapping
from typing import Any

from django.db import models
from django.utils import timezone

from tenants.access import Scope, ScopeKind
from tenants.models import AuditEntry

# Field names whose values never reach the log: only the fact that they changed does.
_SECRET_FIELD = re.compile(r"secret|password|ciphertext|token|otp|recovery|private|api_key_hash", re.IGNORECASE)
REDACTED = "(changed, not recorded)"

_request_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_request_ip", default=None)
_request_user_agent: contextvars.ContextVar[str] = contextvars.ContextVar("audit_request_user_agent", default="")
USER_AGENT_MAX = 300


@contextlib.contextmanager
def audit_request_context(*, ip_address: str | None, user_agent: str = "") -> Iterator[None]:
    """Attach the caller's address (and browser, for the personal security trail) to every entry written while
    the block runs (set by the web middleware)."""
    token = _request_ip.set(ip_address or None)
    agent_token = _request_user_agent.set((user_agent or "")[:USER_AGENT_MAX])
    try:
        yield
    finally:
        _request_user_agent.reset(agent_token)
        _request_ip.reset(token)


def audit_request_origin() -> tuple[str | None, str]:
    """The running request's (address, user agent), or (None, "") outside a request (tasks, commands)."""
    return _request_ip.get(), _request_user_agent.get()


def _plain(value: Any) -> Any:
    """JSON-safe and exact: decimals and dates as strings, model instances as their primary key."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, decimal.Decimal | dt.date | dt.datetime | dt.time):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def audit_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, list[Any]]:
    """Only the fields that changed, as {field: [before, after]}; secret fields keep only the fact of a change."""
    before, after = dict(before or {}), dict(after or {})
    changes: dict[str, list[Any]] = {}
    for field in sorted(set(before) | set(after)):
        old, new = _plain(before.get(field)), _plain(after.get(field))
        if old == new:
            continue
        if _SECRET_FIELD.search(field):
            changes[field] = [None, REDACTED]
        else:
            changes[field] = [old, new]
    return changes


def audit_snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """The named fields of `obj` (ForeignKeys by id) for a before/after pair."""
    out = {}
    for name in fields:
        field = obj._meta.get_field(name)
        out[name] = getattr(obj, field.attname)
    return out


def _actor(scope: Scope) -> tuple[str, int | None, int | None, str]:
    if scope.token_id is not None:
        label = scope.actor_label or f"token #{scope.token_id}"
        return AuditEntry.ActorKind.TOKEN, scope.user_id, scope.token_id, label
    if scope.kind == ScopeKind.SYSTEM or scope.user_id is None:
        return AuditEntry.ActorKind.SYSTEM, None, None, scope.actor_label or "system"
    from django.contrib.auth import get_user_model

    label = scope.actor_label or (
        get_user_model().objects.filter(pk=scope.user_id).values_list("email", flat=True).first() or ""
    )
    return AuditEntry.ActorKind.USER, scope.user_id, None, label or f"user #{scope.user_id}"


def audit_actor_label(scope: Scope) -> str:
    """How the scope's actor is named in the log (an e-mail, a token's name, a task)."""
    return _actor(scope)[3]


def audit_record(
    *,
    scope: Scope,
    action: str,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    customer_id: int | None = None,
    ip_address: str | None = None,
) -> AuditEntry:
    """Append one entry. Call it inside the write's own transaction (a rollback then removes it too).

    `customer_id` names the customer the entry is about (so that customer's admin sees it); by default the
    scope's customer, or the target's `customer_id` when it has one.
    """
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or target.pk or ""
        object_repr = object_repr or str(target)
        if customer_id is None:
            customer_id = getattr(target, "customer_id", None)
            if customer_id is None and target._meta.label_lower == "tenants.customer":
                customer_id = target.pk
    if customer_id is None:
        customer_id = scope.customer_id
    kind, user_id, token_id, label = _actor(scope)
    return AuditEntry.objects.create(
        provider_id=scope.provider_id,
        customer_id=customer_id,
        actor_kind=kind,
        actor_user_id=user_id,
        actor_token_id=token_id,
        actor_label=label[:200],
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:64],
        object_repr=object_repr[:200],
        changes=audit_changes(before, after),
        ip_address=ip_address or _request_ip.get(),
        created_at=timezone.now(),
    )
