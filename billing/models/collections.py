"""Collections (issue 19): each provider's policy for open invoices, and the record of every step taken.

Why a step table: the daily run must be idempotent (a second run, a retried task or two beats at once send no
reminder twice and charge no late fee twice), and every step must be visible afterwards on the customer's page.
The unique constraint on (invoice, kind, day) is what makes a step happen once.
"""

from __future__ import annotations

from django.db import models

from tenants.models import Customer, Provider


class CollectionPolicy(models.Model):
    """What happens to an invoice left unpaid. Without a row the defaults below apply (reminders only)."""

    TENANT_CUSTOMER_FIELD = None

    provider = models.OneToOneField(Provider, on_delete=models.PROTECT, related_name="+")
    reminder_days_before_due = models.PositiveSmallIntegerField(
        default=3, help_text="Days before the due date to remind (0: no reminder before).")
    reminder_days_after_due = models.CharField(
        max_length=60, default="1,7,14", blank=True, help_text="Days after the due date to remind, e.g. 1,7,14.")
    late_fee_bps = models.PositiveIntegerField(default=0, help_text="Of the amount due; 0: no late fee.")
    late_fee_after_days = models.PositiveSmallIntegerField(default=30)
    delinquency_enabled = models.BooleanField(
        default=False, help_text="Pay an overdue customer's rewards to the provider's main balance until settled.")
    delinquency_after_days = models.PositiveSmallIntegerField(default=30)
    delinquency_notice_days = models.PositiveSmallIntegerField(default=7)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(late_fee_bps__lte=5000),
                                              name="billing_collection_late_fee_max")]

    def __str__(self) -> str:
        return f"Collection policy of provider #{self.provider_id}"


class CollectionStepKind(models.TextChoices):
    REMINDER_BEFORE = "reminder_before", "Reminder before the due date"
    REMINDER_AFTER = "reminder_after", "Reminder after the due date"
    LATE_FEE = "late_fee", "Late fee charged"
    DELINQUENCY_WARNING = "delinquency_warning", "Warned: payouts will go to the provider"
    PAYOUT_SWITCH = "payout_switch", "Payouts switched to the provider's main balance"
    PAYOUT_RESTORE = "payout_restore", "Payouts switched back (settled)"


class CollectionStep(models.Model):
    """One step of collections for one invoice, taken once. `day` is the day relative to the due date."""

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey("billing.Invoice", on_delete=models.PROTECT, related_name="collection_steps")
    kind = models.CharField(max_length=24, choices=CollectionStepKind.choices)
    day = models.IntegerField()
    taken_at = models.DateTimeField()
    detail = models.CharField(max_length=500)

    class Meta:
        ordering = ["taken_at", "id"]
        constraints = [models.UniqueConstraint(fields=["invoice", "kind", "day"], name="billing_collection_step_once")]

    def __str__(self) -> str:
        return f"{self.kind} ({self.day:+d} d): {self.detail}"


class DelinquencySwitch(models.Model):
    """An account whose payouts the policy sent to the provider's main balance, and the destination to give back."""

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("mining.MiningAccount", on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey("billing.Invoice", on_delete=models.PROTECT, related_name="+")
    before_destination = models.CharField(max_length=32)
    before_address = models.CharField(max_length=100, blank=True)
    switch_change = models.ForeignKey("mining.PayoutChange", on_delete=models.PROTECT, related_name="+")
    restore_change = models.ForeignKey("mining.PayoutChange", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+")
    switched_at = models.DateTimeField()
    restored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account"], condition=models.Q(restored_at__isnull=True),
                                               name="billing_delinquency_one_open_per_account")]

    def __str__(self) -> str:
        return f"Account #{self.account_id} held back for invoice #{self.invoice_id}"
