"""A user's own display settings. Personal, not tenant data: no capability applies (everyone may set their own)
and no tenant's audit log records it (it changes nothing anyone else sees)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from tenants.models import UserPreference, validate_timezone


def user_preference_set(*, user, timezone: str) -> UserPreference | None:
    """Set the user's time zone; an empty value goes back to the provider's zone (the row is removed).
    An unknown zone is a field error and changes nothing. Saving the same value twice is one row."""
    timezone = (timezone or "").strip()
    if not timezone:
        UserPreference.objects.filter(user=user).delete()
        return None
    try:
        validate_timezone(timezone)
    except ValidationError as exc:
        raise ValidationError({"timezone": exc.messages}) from exc
    with transaction.atomic():
        pref, _ = UserPreference.objects.update_or_create(user=user, defaults={"timezone": timezone})
    return pref
