"""The e-mail outbox's rows: every message the product sends is a row first (tenants/email.py sends them).
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from tenants.models.customers import Customer
from tenants.models.providers import Provider


class OutboundEmail(models.Model):
    """One e-mail to one recipient, written in the same transaction as the event it tells about.

    The outbox is what makes a notice durable: the row commits with the alert (or invitation, or statement) or not
    at all, a task sends it after commit, and a beat sweep re-sends whatever a lost broker queue or a killed
    worker left behind. One row per recipient, so nobody sees anyone else's address and a refusing mailbox fails
    only its own message. See tenants/email.py and docs/EMAIL.md.
    """

    TENANT_CUSTOMER_FIELD = "customer"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    recipient = models.EmailField(max_length=254)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    dedupe_key = models.CharField(
        max_length=200, help_text="What the message is about, e.g. alert:42:open; queuing it again is a no-op."
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, help_text="Why the last attempt failed, in words.")
    next_attempt_at = models.DateTimeField(help_text="When a queued message is due (later after a failed attempt).")
    claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="A sender's lease; once past, another worker may pick the message up."
    )
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    give_up_at = models.DateTimeField(
        null=True, blank=True,
        help_text="After this a failed attempt is the last: the message is failed and the provider is told "
        "(empty on rows from before it existed: created + EMAIL_OUTBOX_GIVE_UP_AFTER_S).",
    )
    failed_at = models.DateTimeField(null=True, blank=True, help_text="When the message was given up.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                "provider", "dedupe_key", Lower("recipient"), name="outbound_email_once_per_recipient"
            ),
        ]
        indexes = [
            models.Index(fields=["provider", "status", "-created_at"]),
            # The sweep's work list: only unfinished rows, so it stays small however much mail was sent.
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(status__in=["queued", "sending"]),
                name="outbound_email_unfinished",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.recipient} ({self.status})"
