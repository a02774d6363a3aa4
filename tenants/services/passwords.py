"""Passwords: the reset link goes out through the outbox like every other message, and a change leaves a trail.

Why the outbox: the reset e-mail is a row first (`tenants.email.email_enqueue`), committed with the request, then
sent by the outbox's retried task, so a mail server that refuses or is down delays it (with the outbox's backoff
until its give-up time, then the provider is told), never loses it. Django's token is minted when the row is
written; it dies when the password changes or after PASSWORD_RESET_TIMEOUT, whichever comes first.

Django's forms change the password (and, through the session auth hash, end every other session);
`password_change_record` records it as a personal security event, in the same transaction.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tenants.email import email_enqueue
from tenants.models import CustomerMembership, ProviderMembership, SecurityEvent
from tenants.services.security_events import security_event_record

logger = logging.getLogger(__name__)


def _outbox_tenant(user: Any) -> tuple[int, int | None] | None:
    """Whose outbox carries the user's reset mail: the first provider they are staff at, else the customer they
    belong to (every outbox row belongs to a tenant). None for a person who belongs to no tenant."""
    staff = ProviderMembership.objects.filter(user=user).order_by("pk").values_list("provider_id", flat=True).first()
    if staff is not None:
        return staff, None
    member = (CustomerMembership.objects.filter(user=user).order_by("pk")
              .values_list("provider_id", "customer_id").first())
    return tuple(member) if member is not None else None


def password_reset_request(*, user: Any, now: datetime | None = None) -> list[int]:
    """Queue the reset link for an active user with a usable password and an address; the outbox rows' ids.

    Nobody is told whether an address has an account (the form answers the same either way); a user who belongs
    to no tenant gets no message (there is no outbox to carry it), which the log says.
    """
    if not user.is_active or not user.has_usable_password() or not user.email:
        return []
    tenant = _outbox_tenant(user)
    if tenant is None:
        logger.warning("password reset for user %s: no provider or customer to send it from; nothing sent", user.pk)
        return []
    provider_id, customer_id = tenant
    token = default_token_generator.make_token(user)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    url = settings.PORTAL_BASE_URL + reverse("accounts:password_reset_confirm", args=[uid, token])
    context = {"user": user, "url": url, "minutes": settings.PASSWORD_RESET_TIMEOUT // 60}
    with transaction.atomic():
        return email_enqueue(
            provider_id=provider_id, customer_id=customer_id, recipients=[user.email],
            subject=" ".join(render_to_string("emails/password_reset_subject.txt", context).split()),
            body=render_to_string("emails/password_reset_body.txt", context),
            dedupe_key=f"password-reset:{user.pk}:{hashlib.sha256(token.encode()).hexdigest()[:16]}", now=now,
        )


@transaction.atomic
def password_change_record(*, user: Any, by_reset: bool) -> None:
    """`by_reset`: the change came through the e-mailed reset link (a proven mailbox), not the signed-in form."""
    kind = SecurityEvent.Kind.PASSWORD_RESET if by_reset else SecurityEvent.Kind.PASSWORD_CHANGE
    security_event_record(user=user, kind=kind)
