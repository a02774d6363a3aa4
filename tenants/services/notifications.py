"""What the e-mail tasks do: build the link, send one message to one person, record that it went."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tenants.mail import mail_send

User = get_user_model()


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
