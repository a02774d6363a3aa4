"""Brute-force protection glue for django-axes: which (user, address) pair a sign-in attempt counts against,
and clearing a lockout (staff, audited)."""

from __future__ import annotations

from typing import Any

from axes.utils import reset as axes_reset
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from tenants.access import Capability, Scope, ScopeKind, get_in_scope
from tenants.audit import audit_record
from tenants.models import CustomerMembership, ProviderMembership
from tenants.services.user_powers import user_power_require


def lockout_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The lower-cased address, so `Alice@x` and `alice@x` count as one user (and cannot dodge the limit)."""
    raw = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(raw).strip().lower()


def lockout_client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR only: forwarding headers are not trusted unless an operator puts a proxy in front (SECURITY.md)."""
    return request.META.get("REMOTE_ADDR", "")


def lockout_clear(*, scope: Scope, user_id: int) -> int:
    """Lift the sign-in lockout of a member of this provider (staff) or of this customer; returns attempts removed.

    The lockout guards the user's one account everywhere, so only a user wholly within this tenant can be unlocked
    by it (`tenants.services.user_powers`); anyone else waits for the cool-off or asks a platform administrator.
    """
    if scope.kind == ScopeKind.CUSTOMER:
        scope.require(Capability.MANAGE_CUSTOMER_USERS)
        member = get_in_scope(CustomerMembership.objects.select_related("user"), scope, user_id=user_id)
    else:
        scope.require(Capability.MANAGE_STAFF)
        member = (
            ProviderMembership.objects.select_related("user").filter(provider_id=scope.provider_id, user_id=user_id)
            .first()
        ) or get_in_scope(CustomerMembership.objects.select_related("user"), scope, user_id=user_id)
    user = member.user
    customer_id = getattr(member, "customer_id", None)
    user_power_require(scope=scope, user=user, action="user.lockout_clear", customer_id=customer_id)
    with transaction.atomic():
        removed = axes_reset(username=user.username) or 0
        audit_record(scope=scope, action="user.lockout_clear", target=user, object_repr=user.email,
                     customer_id=customer_id, after={"attempts_removed": removed})
    return removed


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """The page a locked (user, address) pair sees: how long, until when, and what else to do.

    Every attempt during the pause restarts it (django-axes' default), so "until" counts from this attempt.
    """
    cooloff = settings.AXES_COOLOFF_TIME
    return render(request, "registration/locked_out.html", {
        "username": lockout_username(request, credentials),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": int(cooloff.total_seconds() // 60),
        "until": timezone.now() + cooloff,
    }, status=settings.AXES_HTTP_RESPONSE_CODE)
