"""The trail of a password change: Django's forms change the password (and, through the session auth hash, end
every other session); this records it as a personal security event, in the same transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from tenants.models import SecurityEvent
from tenants.services.security_events import security_event_record


@transaction.atomic
def password_change_record(*, user: Any, by_reset: bool) -> None:
    """`by_reset`: the change came through the e-mailed reset link (a proven mailbox), not the signed-in form."""
    kind = SecurityEvent.Kind.PASSWORD_RESET if by_reset else SecurityEvent.Kind.PASSWORD_CHANGE
    security_event_record(user=user, kind=kind)
