"""Reads for accounts and access (team lists, pending invitations, locked sign-ins, the audit log), always
through tenants.access."""

from __future__ import annotations

import datetime as dt
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.access import Scope, scoped
from tenants.models import AuditEntry, CustomerMembership, Invitation, ProviderMembership, SecurityEvent


def staff_member_list(*, scope: Scope) -> list[ProviderMembership]:
    members = list(scoped(ProviderMembership, scope).select_related("user").order_by("user__email"))
    enrolled = set(TOTPDevice.objects.filter(user_id__in=[m.user_id for m in members], confirmed=True)
                   .values_list("user_id", flat=True))
    locked = locked_usernames(usernames=[m.user.username for m in members])
    for m in members:
        m.has_second_factor = m.user_id in enrolled
        m.is_locked = m.user.username in locked
    return members


def user_is_member(*, scope: Scope, user_id: int) -> bool:
    """Whether the user holds a membership the scope can see: at the provider, or at one of its customers."""
    return (scoped(ProviderMembership, scope).filter(user_id=user_id).exists()
            or scoped(CustomerMembership, scope).filter(user_id=user_id).exists())


def customer_user_list(*, scope: Scope, customer_id: int) -> list[CustomerMembership]:
    members = list(scoped(CustomerMembership, scope).filter(customer_id=customer_id).select_related("user")
                   .order_by("user__email"))
    locked = locked_usernames(usernames=[m.user.username for m in members])
    for m in members:
        m.is_locked = m.user.username in locked
    return members


def invitation_pending_list(*, scope: Scope, customer_id: int | None, now: dt.datetime | None = None
                            ) -> QuerySet[Invitation]:
    now = now or timezone.now()
    qs = scoped(Invitation, scope).filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)
    qs = qs.filter(customer__isnull=True) if customer_id is None else qs.filter(customer_id=customer_id)
    return qs.order_by("-created_at")


def locked_usernames(*, usernames: list[str], now: dt.datetime | None = None) -> set[str]:
    """Which of these accounts are locked out from some address right now (failures at the limit, not cooled off)."""
    now = now or timezone.now()
    cooloff = settings.AXES_COOLOFF_TIME
    return set(
        AccessAttempt.objects.filter(username__in=usernames, failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
                                     attempt_time__gt=now - cooloff)
        .values_list("username", flat=True)
    )


def audit_entry_list(
    *,
    scope: Scope,
    object_type: str = "",
    object_id: str = "",
    user: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEntry]:
    """The log a member may read: staff the provider's, a customer scope only entries about its customer.

    Dates are whole UTC days, both ends included.
    """
    qs = scoped(AuditEntry, scope).select_related("customer")
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if user:
        qs = qs.filter(Q(actor_label__iexact=user.strip()) | Q(actor_user__email__iexact=user.strip()))
    if date_from:
        qs = qs.filter(created_at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=dt.UTC))
    if date_to:
        qs = qs.filter(created_at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC))
    return qs.order_by("-created_at", "-id")


def audit_object_types(*, scope: Scope) -> list[str]:
    return list(scoped(AuditEntry, scope).order_by("object_type").values_list("object_type", flat=True).distinct())


def security_event_list_for_user(*, user: Any) -> QuerySet[SecurityEvent]:
    """The user's own security trail, newest first (their page shows it; nobody else's is reachable from it)."""
    return SecurityEvent.objects.filter(user=user).order_by("-at", "-id")
