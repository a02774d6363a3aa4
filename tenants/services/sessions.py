"""Session generations: every session remembers the generation it started in; raising a user's generation ends
all their sessions on their next request, wherever they are (sign out everywhere, a reset second factor)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F

from tenants.models import AccountSecurity

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
