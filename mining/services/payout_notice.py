"""The e-mails of a held payout change: the requester's confirmation link, the notice with a cancel link that goes
to everyone who could notice a change they did not make, and the outcome (applied, failed, canceled).

Why: a changed payout address is where stolen rewards would go, and the pool has no undo. So the provider's owners
and admins, the customer's contacts and the requester hear of a change the moment it is held, each with their own
single-use cancel link, and hear again how it ended. Queued through the outbox in the caller's transaction
(docs/EMAIL.md): the change and its notice commit together or not at all.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from django.conf import settings
from django.urls import reverse

from mining.models.payouts import PayoutChange, PayoutChangeToken
from tenants.access import scope_for_system, scoped
from tenants.email import email_enqueue
from tenants.models import Customer, Provider, ProviderMembership, StaffRole


def _where(destination: str, address: str) -> str:
    if destination == "external_address":
        return f"the Bitcoin address {address}"
    return "the WhiteBIT main balance" if destination == "main_balance" else "not set"


def _utc(at: datetime) -> str:
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def payout_notice_recipients(*, change: PayoutChange) -> list[tuple[str, int | None]]:
    """(address, customer id for the outbox row) of everyone told about a change: the provider's owners and admins,
    the customer's contacts and the requester; each address once."""
    system = scope_for_system(provider_id=change.provider_id)
    staff = list(scoped(ProviderMembership, system).filter(role__in=[StaffRole.OWNER, StaffRole.ADMIN])
                 .exclude(user__email="").order_by("user__email").values_list("user__email", flat=True))
    out: list[tuple[str, int | None]] = [(a, None) for a in staff]
    if change.customer_id:
        customer = scoped(Customer, system).filter(pk=change.customer_id).first()
        contacts = [a for a in (customer.contact_emails if customer else []) or [] if isinstance(a, str)]
        out += [(a, change.customer_id) for a in contacts]
    requester = getattr(change.requested_by, "email", "") if change.requested_by_id else ""
    if requester:
        out.append((requester, change.customer_id))
    seen: set[str] = set()
    unique = []
    for address, customer_id in out:
        if address.strip().lower() not in seen:
            seen.add(address.strip().lower())
            unique.append((address.strip(), customer_id))
    return unique


def _token(change: PayoutChange, purpose: str, recipient: str, now: datetime,
           expires_at: datetime | None = None) -> str:
    token = secrets.token_urlsafe(32)
    PayoutChangeToken.objects.create(
        provider_id=change.provider_id, customer_id=change.customer_id, change=change, purpose=purpose,
        token_hash=PayoutChangeToken.hash_token(token), recipient=recipient, expires_at=expires_at, created_at=now)
    return token


def _subject(change: PayoutChange, provider: Provider, what: str) -> str:
    return f"[{' '.join(provider.name.split())}] {what}: {change.account.name}"[:255]


def _intro(change: PayoutChange) -> str:
    customer = scoped(Customer, scope_for_system(provider_id=change.provider_id)).filter(
        pk=change.customer_id).values_list("name", flat=True).first() if change.customer_id else None
    return (f"the mining account {change.account.name}{f' ({customer})' if customer else ''}: "
            f"from {_where(change.before_destination, change.before_address)} "
            f"to {_where(change.destination, change.address)}")


def payout_change_confirm_mail(*, change: PayoutChange, recipient: str, expires_at: datetime, now: datetime) -> None:
    """The requester has no authenticator: the change waits for the link sent to their own address."""
    token = _token(change, PayoutChangeToken.Purpose.CONFIRM, recipient, now, expires_at)
    url = settings.PORTAL_BASE_URL + reverse("accounts:payout_change_confirm", args=[token])
    provider = change.provider
    body = (f"You asked to change where the pool pays {_intro(change)}.\n\n"
            f"Confirm it within 30 minutes (until {_utc(expires_at)}) on this page:\n{url}\n\n"
            f"Once confirmed it is held for {provider.payout_hold_hours} hours before it is sent to the pool, and "
            "everyone told about it can cancel it.\nIf you did not ask for this, do not open the link: tell your "
            "hosting provider, and change your password.")
    email_enqueue(provider_id=change.provider_id, customer_id=change.customer_id, recipients=[recipient],
                  subject=_subject(change, provider, "Confirm the payout change"), body=body,
                  dedupe_key=f"payout_change:{change.pk}:confirm", now=now)


def payout_change_held_mail(*, change: PayoutChange, now: datetime) -> int:
    """Everyone told gets their own single-use cancel link (a link works until the change leaves its hold)."""
    provider = change.provider
    sent = 0
    for recipient, customer_id in payout_notice_recipients(change=change):
        token = _token(change, PayoutChangeToken.Purpose.CANCEL, recipient, now)
        url = settings.PORTAL_BASE_URL + reverse("accounts:payout_change_cancel_link", args=[token])
        body = (f"{change.requested_by_label} asked at {_utc(change.requested_at)} to change where the pool pays "
                f"{_intro(change)}.\n\nIt is held until {_utc(change.due_at)} and only then sent to the pool. "
                f"Nothing has changed yet.\n\nIf you did not expect this change, cancel it on this page (the link "
                f"works once):\n{url}\n\nAny admin of the customer or of {provider.name} can also cancel it on the "
                "payout page.")
        sent += len(email_enqueue(
            provider_id=change.provider_id, customer_id=customer_id, recipients=[recipient],
            subject=_subject(change, provider, "Payout change held"), body=body,
            dedupe_key=f"payout_change:{change.pk}:held", now=now))
    return sent


def payout_change_outcome_mail(*, change: PayoutChange, now: datetime) -> int:
    """How it ended: applied at the pool, refused by the pool (its reason), or canceled (by whom)."""
    provider = change.provider
    what = {"applied": "Payout change applied", "failed": "Payout change failed",
            "canceled": "Payout change canceled"}[change.status]
    body = (f"The change requested by {change.requested_by_label} at {_utc(change.requested_at)} of "
            f"{_intro(change)}:\n\n{change.outcome}\n")
    if change.status == "applied":
        body += "\nIf you did not expect this change, tell your hosting provider at once: rewards are paid there now."
    sent = 0
    for recipient, customer_id in payout_notice_recipients(change=change):
        sent += len(email_enqueue(
            provider_id=change.provider_id, customer_id=customer_id, recipients=[recipient],
            subject=_subject(change, provider, what), body=body,
            dedupe_key=f"payout_change:{change.pk}:{change.status}", now=now))
    return sent
