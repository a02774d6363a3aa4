"""Session generations: every session remembers the generation it started in; raising a user's generation ends
all their sessions on their next request, wherever they are (sign out everywhere, a reset second factor)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import F

from tenants.models import AccountSecurity, SecurityEvent
from tenants.services.security_events import security_event_record

SESSION_GENERATION_KEY = "_access_generation"
security_log = logging.getLogger("portal.security")


def session_generation_get(*, user_id: int) -> int:
    return AccountSecurity.objects.filter(user_id=user_id).values_list("session_generation", flat=True).first() or 0


@transaction.atomic
def sessions_end_all(*, user_id: int, reason: str) -> int:
    """Raise the user's generation: every session they hold ends at its next request. Returns the new number."""
    AccountSecurity.objects.get_or_create(user_id=user_id)
    AccountSecurity.objects.filter(user_id=user_id).update(session_generation=F("session_generation") + 1)
    security_log.info("sessions ended for user %s: %s", user_id, reason)
    return session_generation_get(user_id=user_id)


def sessions_sign_out_everywhere(*, user: Any) -> int:
    """The user ends every session they hold ("sign out everywhere"): a personal security event."""
    with transaction.atomic():
        generation = sessions_end_all(user_id=user.pk, reason="signed out everywhere")
        security_event_record(user=user, kind=SecurityEvent.Kind.SIGN_OUT_EVERYWHERE)
    return generation

