"""The personal security trail: one `SecurityEvent` for the user, and one audit entry in each tenant it concerns.

Why both: a password, a second factor or "sign out everywhere" belongs to the person, across every provider and
customer they are in, so the person sees the whole history on their own security page; and each tenant they belong
to sees, in its own audit log, that the sign-in of one of its members changed (issue 15 item 9). Call
`security_event_record` inside the transaction of the change it describes, so a rolled-back change leaves neither.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils import timezone

from tenants.access import Scope, ScopeKind
from tenants.audit import audit_record, audit_request_origin
from tenants.models import CustomerMembership, ProviderMembership, SecurityEvent

Kind = SecurityEvent.Kind
_SAFE_DETAIL = (str, int, bool, type(None))


def security_event_tenant_scopes(*, user: Any) -> list[Scope]:
    """The tenants an event of `user` concerns, as the user's own scopes: every provider where they are staff,
    and every customer they belong to at a provider where they are not staff (so that customer's admin sees it)."""
    scopes = [Scope(ScopeKind.STAFF, m.provider_id, None, m.role, user.pk)
              for m in ProviderMembership.objects.filter(user=user).order_by("provider_id")]
    staff_at = {s.provider_id for s in scopes}
    scopes += [Scope(ScopeKind.CUSTOMER, m.provider_id, m.customer_id, m.role, user.pk)
               for m in CustomerMembership.objects.filter(user=user).exclude(provider_id__in=staff_at)
               .order_by("provider_id", "customer_id")]
    return scopes


def security_event_record(
    *,
    user: Any,
    kind: SecurityEvent.Kind,
    detail: Mapping[str, Any] | None = None,
    tenant_scopes: Iterable[Scope] | None = None,
) -> SecurityEvent:
    """Append the event to the user's trail and to the audit log of each concerned tenant (`user.<kind>`).

    `tenant_scopes` defaults to every tenant of the user's memberships; pass the scopes yourself when the event
    concerns other tenants (a provider's pool secret), or `[]` when the change already writes its own entry.
    `detail` takes plain facts only; anything else is refused, so a secret cannot slip in as an object.
    """
    detail = dict(detail or {})
    for key, value in detail.items():
        if not isinstance(value, _SAFE_DETAIL):
            raise TypeError(f"security event detail {key!r} must be a plain value")
    ip, user_agent = audit_request_origin()
    event = SecurityEvent.objects.create(user=user, kind=kind, at=timezone.now(), ip=ip, user_agent=user_agent,
                                         detail=detail)
    scopes = security_event_tenant_scopes(user=user) if tenant_scopes is None else list(tenant_scopes)
    for scope in scopes:
        audit_record(scope=scope, action=f"user.{kind.value}", target=user, object_repr=user.email,
                     after={"event": kind.label, **detail})
    return event
