"""What the e-mail tasks do: build the link, send one message to one person, record that it went."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tenants.mail import mail_send
from tenants.models import Invitation
from tenants.services.invitations import invitation_token_issue

User = get_user_model()


def invitation_send(*, invitation_id: int, now: dt.datetime | None = None) -> bool:
    """Send the invitation once; False when there is nothing to send (used, withdrawn, expired, already sent)."""
    now = now or timezone.now()
    with transaction.atomic():
        invitation = (Invitation.objects.select_for_update(of=("self",)).select_related("provider", "customer")
                      .filter(pk=invitation_id).first())
        if invitation is None or invitation.sent_at or invitation.status(now=now) != "pending":
            return False
        token = invitation_token_issue(invitation=invitation)
    url = settings.PORTAL_BASE_URL + reverse("accounts:invitation_accept", args=[token])
    mail_send(to=invitation.email, template="emails/invitation", context={
        "invitation": invitation, "url": url, "where": invitation.customer or invitation.provider,
        "days": settings.ACCESS_INVITATION_TTL_DAYS,
    })
    Invitation.objects.filter(pk=invitation.pk, sent_at__isnull=True).update(sent_at=now)
    return True


def password_reset_send(*, user_id: int) -> bool:
    """Django's reset token (it dies when the password changes or after PASSWORD_RESET_TIMEOUT), by e-mail."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.has_usable_password() or not user.email:
        return False
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    url = settings.PORTAL_BASE_URL + reverse("accounts:password_reset_confirm", args=[uid, token])
    mail_send(to=user.email, template="emails/password_reset", context={
        "user": user, "url": url, "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
    })
    return True
