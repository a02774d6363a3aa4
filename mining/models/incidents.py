"""Alert channels, incidents, deliveries and mutes (issue 20).

Why incidents: an `Alert` is one watched condition (one offline worker, one account under its floor); people are
told about an `Incident`, which groups the open alerts of one account, kind and rule ("3 workers offline on
acct_004"), fires once, repeats while open and unacknowledged, and sends one recovery message when its last alert
clears. A delivery is one message of one incident event to one channel: a row first (unique per channel and
event, so an event is never queued twice), sent by a task on the `notify` queue that claims it like the e-mail
outbox claims a message. Secrets (webhook URLs, the `whsec_` signing secret, the Telegram bot token) are stored
encrypted with `tenants.crypto` and never rendered or returned after creation.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from tenants.models import Customer, Provider


class ChannelKind(models.TextChoices):
    EMAIL = "email", "E-mail"
    SLACK = "slack", "Slack"
    TEAMS = "teams", "Microsoft Teams"
    DISCORD = "discord", "Discord"
    WEBHOOK = "webhook", "Signed webhook"
    TELEGRAM = "telegram", "Telegram"


class AlertChannel(models.Model):
    """Where alert messages go. `customer` empty: a provider channel, serving staff; set: the customer's own."""

    TENANT_CUSTOMER_FIELD = "customer"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PENDING = "pending", "Waiting for the chat to be bound"
        PAUSED = "paused", "Paused after repeated failures"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    name = models.CharField(max_length=80)
    target_encrypted = models.TextField(blank=True, help_text="The webhook URL, encrypted (it carries a token).")
    target_hint = models.CharField(max_length=80, blank=True, help_text="Host and last characters, for people.")
    emails = models.JSONField(default=list, blank=True)
    secret_encrypted = models.TextField(blank=True, help_text="The whsec_ signing secret, encrypted.")
    chat_id = models.CharField(max_length=40, blank=True)
    bind_code_hash = models.CharField(max_length=64, blank=True)
    bind_code_expires_at = models.DateTimeField(null=True, blank=True)
    kinds = models.JSONField(default=list, blank=True, help_text="Alert kinds sent here; empty: all.")
    timezone = models.CharField(max_length=64, default="UTC")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    paused_reason = models.TextField(blank=True)
    failures_in_row = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        indexes = [models.Index(fields=["provider", "customer", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"


class TelegramBot(models.Model):
    """A provider's Telegram bot: its token (write-only, encrypted) and how far its updates were read."""

    TENANT_CUSTOMER_FIELD = None  # provider-wide: invisible to a customer scope

    provider = models.OneToOneField(Provider, on_delete=models.CASCADE, related_name="+")
    token_encrypted = models.TextField()
    username = models.CharField(max_length=64, blank=True)
    update_offset = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Telegram bot of provider {self.provider_id}"


class Incident(models.Model):
    """The open alerts of one account, kind and rule, told to people as one thing."""

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    account = models.ForeignKey("mining.MiningAccount", on_delete=models.CASCADE, null=True, blank=True,
                                related_name="+")
    rule = models.ForeignKey("mining.AlertRule", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=24)
    group_key = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    members = models.JSONField(default=list, blank=True)
    opened_at = models.DateTimeField()
    began_at = models.DateTimeField(null=True, blank=True, help_text="When its earliest condition began.")
    fired_at = models.DateTimeField(null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    repeats = models.PositiveIntegerField(default=0)
    suppressed_reason = models.CharField(max_length=200, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    recovery_sent_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                        related_name="+")

    class Meta:
        ordering = ["-opened_at"]
        constraints = [models.UniqueConstraint(fields=["provider", "group_key"], condition=Q(resolved_at__isnull=True),
                                               name="incident_one_open_per_group")]
        indexes = [models.Index(fields=["provider", "resolved_at"]), models.Index(fields=["provider", "customer"])]

    def __str__(self) -> str:
        return self.summary or self.group_key


class AlertDelivery(models.Model):
    """One message of one event to one channel; `event_key` is unique per channel, `webhook_id` fixed for retries."""

    TENANT_CUSTOMER_FIELD = "customer"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    channel = models.ForeignKey(AlertChannel, on_delete=models.CASCADE, related_name="deliveries")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    event = models.CharField(max_length=16)  # fire, repeat, recover, test, notice
    event_key = models.CharField(max_length=200)
    webhook_id = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    last_answer = models.CharField(max_length=500, blank=True)
    log = models.JSONField(default=list, blank=True, help_text="Every attempt: when, status, the channel's answer.")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["channel", "event_key"], name="delivery_once_per_event")]
        indexes = [models.Index(fields=["provider", "channel", "created_at"]),
                   models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event_key} → channel {self.channel_id}: {self.status}"


class AlertMute(models.Model):
    """Silence one worker, one account or one rule until `until_at` (a snooze is a mute with a near expiry)."""

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    worker = models.ForeignKey("mining.Worker", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    account = models.ForeignKey("mining.MiningAccount", on_delete=models.CASCADE, null=True, blank=True,
                                related_name="+")
    rule = models.ForeignKey("mining.AlertRule", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    until_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        indexes = [models.Index(fields=["provider", "until_at"])]

    def __str__(self) -> str:
        return f"Mute until {self.until_at:%Y-%m-%d %H:%M}"
