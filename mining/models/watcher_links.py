"""Watcher links: the pool's read-only links to an account's figures.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from mining.models.accounts import MiningAccount
from mining.models.base import CustomerOwned


class WatcherLink(CustomerOwned):
    """A shareable read-only pool page. Natural key: (provider, upstream_id)."""

    accounts = models.ManyToManyField(MiningAccount, related_name="watcher_links")
    upstream_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    url = models.URLField(max_length=500)
    permissions = models.JSONField(default=list)
    live_until_at = models.DateTimeField(null=True, blank=True, help_text="Empty means it never expires.")
    upstream_created_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    is_active = models.BooleanField(default=True, help_text="Still listed by the pool.")
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-upstream_created_at"]
        constraints = [models.UniqueConstraint(fields=["provider", "upstream_id"], name="watcher_link_natural_key")]

    def __str__(self) -> str:
        return self.name
