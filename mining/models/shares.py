"""The portal's own share links (issue 21): read-only pages a customer admin hands to an investor or a partner,
beyond the pool's watcher links (capped at three per account, never revocable).

Why a table of our own: the pool's links cannot be revoked, counted or scoped to what they show. A share link names
the accounts it covers and a level (hashrate; + workers; + rewards and statements), has an expiry, a view count
and a last view, and is revoked at once. Only a SHA-256 of its token is stored: the URL is shown once, at creation,
and a copy of the database does not open any page.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from mining.models.base import CustomerOwned

SHARE_TOKEN_HASH_LENGTH = 64


class ShareLevel(models.TextChoices):
    HASHRATE = "hashrate", "Hashrate"
    WORKERS = "workers", "Hashrate and workers"
    REWARDS = "rewards", "Hashrate, workers, rewards and statements"


SHARE_LEVEL_ORDER = [ShareLevel.HASHRATE, ShareLevel.WORKERS, ShareLevel.REWARDS]


class ShareLink(CustomerOwned):
    """One read-only link of a customer. Its accounts are re-checked against the customer at every view: an account
    moved to another customer since the link was made is not shown."""

    name = models.CharField(max_length=120)
    token_hash = models.CharField(max_length=SHARE_TOKEN_HASH_LENGTH, unique=True)
    token_hint = models.CharField(max_length=8, help_text="The token's first characters, to tell links apart.")
    level = models.CharField(max_length=10, choices=ShareLevel.choices, default=ShareLevel.HASHRATE)
    accounts = models.ManyToManyField("mining.MiningAccount", related_name="+")
    expires_at = models.DateTimeField()
    view_count = models.PositiveIntegerField(default=0)
    last_viewed_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["provider", "customer", "-created_at"])]

    def __str__(self) -> str:
        return f"Share link “{self.name}” ({self.token_hint}…)"

    def shows(self, level: str) -> bool:
        """True when this link's level includes `level` (the levels are cumulative)."""
        return SHARE_LEVEL_ORDER.index(self.level) >= SHARE_LEVEL_ORDER.index(level)
