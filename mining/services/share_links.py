"""Share links (issue 21): create, revoke and open the portal's own read-only links.

Why here and not in the view: the rules (which accounts, which level, how long; only a hash of the token is kept;
every create and revoke audited) belong to one place the pages and any later API share. The token is made here,
returned once to the caller and never stored: `ShareLinkCreated.token` is the only copy.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from mining.models import MiningAccount
from mining.models.shares import ShareLevel, ShareLink
from tenants.access import Capability, Scope, ScopeKind, get_in_scope, scoped
from tenants.audit import audit_record

TOKEN_BYTES = 32  # 256 bits from the OS's CSPRNG: unguessable, and too long to enumerate under any rate limit
SHARE_LIFETIMES: dict[str, timedelta] = {
    "1d": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30), "90d": timedelta(days=90),
    "365d": timedelta(days=365),
}
SHARE_LIFETIME_LABELS = {"1d": "1 day", "7d": "7 days", "30d": "30 days", "90d": "90 days", "365d": "1 year"}
NAME_MAX = 120


def share_token_hash(token: str) -> str:
    """What the table stores for a token (and looks a visit up by)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ShareLinkCreated:
    link: ShareLink
    token: str  # shown once; nothing else holds it


def share_link_create(*, scope: Scope, customer_id: int, name: str, account_ids: Iterable[int], level: str,
                      lifetime: str, now: datetime | None = None) -> ShareLinkCreated:
    """A new link of the customer over some of its own accounts. Bad input: field errors, nothing written."""
    scope.require(Capability.MANAGE_WATCHER_LINKS)
    scope = scope.narrowed_to_customer(customer_id)
    now = now or timezone.now()
    name = " ".join((name or "").split())
    wanted = {int(i) for i in account_ids or []}
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Give the link a name (who it is for)."
    elif len(name) > NAME_MAX:
        errors["name"] = f"At most {NAME_MAX} characters."
    if level not in ShareLevel.values:
        errors["level"] = "Choose what the link shows."
    if lifetime not in SHARE_LIFETIMES:
        errors["lifetime"] = "Choose when the link expires."
    accounts = list(scoped(MiningAccount, scope).filter(customer_id=customer_id, pk__in=wanted))
    if not wanted:
        errors["account_ids"] = "Choose at least one account."
    elif len(accounts) != len(wanted):
        raise Http404("Not found")  # another customer's account is the same answer as a missing one
    if errors:
        raise ValidationError(errors)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with transaction.atomic():
        link = ShareLink.objects.create(
            provider_id=scope.provider_id, customer_id=customer_id, name=name, token_hash=share_token_hash(token),
            token_hint=token[:6], level=level, expires_at=now + SHARE_LIFETIMES[lifetime], created_at=now,
            created_by_id=scope.user_id if scope.kind != ScopeKind.SYSTEM else None,
        )
        link.accounts.set(accounts)
        audit_record(scope=scope, action="share_link.create", target=link, customer_id=customer_id, after={
            "name": name, "level": level, "expires_at": link.expires_at,
            "accounts": sorted(a.name for a in accounts)})
    return ShareLinkCreated(link, token)


def share_link_revoke(*, scope: Scope, customer_id: int, link_id: int, now: datetime | None = None) -> ShareLink:
    """Revoke at once: the next visit is a 404. Revoking a revoked link changes nothing (no second entry)."""
    scope.require(Capability.MANAGE_WATCHER_LINKS)
    scope = scope.narrowed_to_customer(customer_id)
    now = now or timezone.now()
    with transaction.atomic():
        link = get_in_scope(ShareLink.objects.select_for_update(), scope, pk=link_id)
        if link.revoked_at is None:
            link.revoked_at = now
            link.save(update_fields=["revoked_at"])
            audit_record(scope=scope, action="share_link.revoke", target=link, before={"revoked_at": None},
                         after={"revoked_at": now})
    return link


def share_link_open(*, token: str, now: datetime | None = None) -> ShareLink:
    """The live link a visitor's token names, counted as one view; 404 for a wrong, revoked or expired token (one
    answer for all three: a visitor learns nothing about links that are not theirs).

    Why an UPDATE with the conditions in its WHERE: a revoke committed a moment earlier wins, and two visits at once
    count two views without a lost update."""
    now = now or timezone.now()
    if not token or len(token) > 100:
        raise Http404("Not found")
    live = ShareLink.objects.filter(token_hash=share_token_hash(token), revoked_at__isnull=True, expires_at__gt=now)
    if not live.update(view_count=F("view_count") + 1, last_viewed_at=now):
        raise Http404("Not found")
    return live.get()


def share_link_peek(*, token: str, now: datetime | None = None) -> ShareLink:
    """The live link without counting a view (the chart's htmx fragment: one page view, however many range clicks)."""
    now = now or timezone.now()
    link = ShareLink.objects.filter(token_hash=share_token_hash(token or ""), revoked_at__isnull=True,
                                    expires_at__gt=now).first()
    if link is None:
        raise Http404("Not found")
    return link


def share_reader_scope(link: ShareLink) -> Scope:
    """The read-only scope a visit reads through: the link's customer, VIEW only (never a write)."""
    return Scope(ScopeKind.SYSTEM, link.provider_id, link.customer_id, actor_label=f"share link #{link.pk}",
                 view_only=True)
