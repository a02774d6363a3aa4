"""A user's own display settings. Not tenant data: it belongs to the person, whichever tenants they work in.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenants.models.providers import validate_timezone


class UserPreference(models.Model):
    """The time zone every page shows times in (stored times stay UTC). Missing row: the provider's zone."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.timezone}"
