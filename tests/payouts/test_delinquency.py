"""Delinquency through the pool (issue 19), against the sandbox over HTTP under a moved clock: an invoice long
overdue warns the customer with notice, then its accounts' payouts go to the provider's main balance (a held change,
announced, applied after the hold), and once the balance is settled they go back where they were paid before.
Every step once, audited, e-mailed, listed."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from billing.models.collections import CollectionStep, DelinquencySwitch
from billing.models.invoices import Invoice
from billing.selectors.collections import collection_steps_for_customer
from billing.services.collections import PolicyInput, collection_policy_set, collections_run
from billing.services.invoices import invoices_issue_month
from billing.services.payments import payment_record
from mining.models import PayoutChange
from mining.services.payouts import payout_change_request_by_policy
from tenants.models import AuditEntry, OutboundEmail
from tests.billing.helpers import close, contract, system_scope
from tests.billing.invoice_helpers import details
from tests.payouts.helpers import GOOD, sweep

NOV = date(2026, 11, 1)


def _hold_passes(pw) -> list[str]:
    pw.clock.shift(timedelta(hours=24, minutes=5))
    return sweep()


def test_an_overdue_customer_is_warned_then_paid_to_the_provider_then_given_back_when_settled(pw):
    provider, customer, account = pw.pp.provider, pw.pp.customer, pw.account
    scope = system_scope(provider)
    # The customer is paid on its own address before any of this (a held change like any other).
    payout_change_request_by_policy(scope=scope, account_id=account.pk, destination="external_address",
                                    address=GOOD, label="test set-up", now=timezone.now())
    assert _hold_passes(pw) == ["applied"]
    assert pw.upstream() == {"payoutDestination": "external_address", "externalAddress": GOOD}

    contract(scope, customer, NOV, machine_count=1, machine_fee_monthly="0.001")
    details(scope, customer, currency="BTC", billing_email="ap@miner.example")
    close(scope, NOV, now=timezone.now())
    invoices_issue_month(scope=scope, period=NOV, now=timezone.now())
    invoice = Invoice.objects.get(customer=customer)
    collection_policy_set(scope=scope, data=PolicyInput(
        reminder_days_before_due=0, reminder_days_after_due="", late_fee_bps=0, late_fee_after_days=30,
        delinquency_enabled=True, delinquency_after_days=30, delinquency_notice_days=7), now=timezone.now())

    days_to_threshold = (invoice.due_date + timedelta(days=30) - timezone.now().date()).days
    pw.clock.shift(timedelta(days=days_to_threshold - 1))
    assert collections_run(provider_id=provider.pk).warnings == 0  # 29 days overdue: nothing yet
    pw.clock.shift(timedelta(days=1))
    assert collections_run(provider_id=provider.pk).warnings == 1
    warning = OutboundEmail.objects.get(dedupe_key__startswith=f"collections:{invoice.pk}:delinquency_warning")
    assert warning.recipient == "ap@miner.example" and "main balance" in warning.body
    pw.clock.shift(timedelta(days=6))
    assert collections_run(provider_id=provider.pk).switched_accounts == 0  # the notice is not over
    assert not PayoutChange.objects.filter(confirmed_by="policy", destination="main_balance").exists()

    pw.clock.shift(timedelta(days=1))
    report = collections_run(provider_id=provider.pk)
    assert report.switched_accounts == 1  # the other account was never synced: named, not switched
    assert collections_run(provider_id=provider.pk).switched_accounts == 0  # once
    switch = PayoutChange.objects.get(account=account, destination="main_balance")
    assert switch.status == "held" and switch.confirmed_by == "policy"
    assert f"invoice {invoice.number}" in switch.requested_by_label
    assert pw.upstream()["payoutDestination"] == "external_address"  # nothing reaches the pool in the hold
    assert "applied" in _hold_passes(pw)
    assert pw.upstream() == {"payoutDestination": "main_balance", "externalAddress": None}

    pw.clock.shift(timedelta(days=1))
    assert collections_run(provider_id=provider.pk).restored_accounts == 0  # still owed
    payment_record(scope=scope, invoice_id=invoice.pk, amount=str(invoice.total_amount), currency="BTC",
                   paid_at=timezone.now().date(), method="btc", reference="settled", now=timezone.now())
    assert collections_run(provider_id=provider.pk).restored_accounts == 1
    assert collections_run(provider_id=provider.pk).restored_accounts == 0
    assert "applied" in _hold_passes(pw)
    assert pw.upstream() == {"payoutDestination": "external_address", "externalAddress": GOOD}
    assert not DelinquencySwitch.objects.filter(restored_at__isnull=True).exists()

    kinds = [s.kind for s in collection_steps_for_customer(scope=scope, customer_id=customer.pk)]
    assert kinds == ["payout_restore", "payout_switch", "delinquency_warning"]
    assert {"collections.delinquency_warning", "collections.payout_switch", "collections.payout_restore",
            "payout_change.hold", "payout_change.applied"} <= set(
        AuditEntry.objects.filter(provider=provider).values_list("action", flat=True))
    detail = CollectionStep.objects.filter(kind="payout_switch").get().detail
    assert detail.startswith("Payouts switched") and f"Accounts: {account.name}." in detail
    assert f"Not switched (payout destination not synced yet): {pw.pp.accounts[1].name}" in detail


def test_a_switch_still_in_its_hold_is_cancelled_when_the_customer_pays(pw):
    provider, customer = pw.pp.provider, pw.pp.customer
    scope = system_scope(provider)
    payout_change_request_by_policy(scope=scope, account_id=pw.account.pk, destination="external_address",
                                    address=GOOD, label="test set-up", now=timezone.now())
    assert _hold_passes(pw) == ["applied"]
    contract(scope, customer, NOV, machine_count=1, machine_fee_monthly="0.001")
    details(scope, customer, currency="BTC")
    close(scope, NOV, now=timezone.now())
    invoices_issue_month(scope=scope, period=NOV, now=timezone.now())
    invoice = Invoice.objects.get(customer=customer)
    collection_policy_set(scope=scope, data=PolicyInput(
        reminder_days_before_due=0, reminder_days_after_due="", late_fee_bps=0, late_fee_after_days=30,
        delinquency_enabled=True, delinquency_after_days=1, delinquency_notice_days=1), now=timezone.now())
    pw.clock.shift(timedelta(days=(invoice.due_date - timezone.now().date()).days + 1))
    collections_run(provider_id=provider.pk)  # warned
    pw.clock.shift(timedelta(days=1))
    assert collections_run(provider_id=provider.pk).switched_accounts >= 1
    payment_record(scope=scope, invoice_id=invoice.pk, amount=str(invoice.total_amount), currency="BTC",
                   paid_at=timezone.now().date(), method="btc", now=timezone.now())
    collections_run(provider_id=provider.pk)
    assert PayoutChange.objects.get(account=pw.account, destination="main_balance").status == "canceled"
    assert _hold_passes(pw) == []  # nothing is sent to the pool at all
    assert pw.upstream() == {"payoutDestination": "external_address", "externalAddress": GOOD}
