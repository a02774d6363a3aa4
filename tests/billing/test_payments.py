"""Payment states: partial, full, over (credit carried to the next invoice), void through a credit note; overdue
read under a moved clock; the statement of account."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from billing.models.invoices import Invoice, InvoiceStatus, Payment
from billing.selectors.invoices import (
    customer_balances,
    invoice_list,
    invoice_status_on,
    statement_of_account,
)
from billing.services.invoices import credit_note_issue, invoice_amounts
from billing.services.payments import customer_credit, payment_record
from tenants.models import AuditEntry
from tests.billing.factories import reward_make
from tests.billing.helpers import NOW
from tests.billing.invoice_helpers import NOV, close_and_issue, customer_held_usd_month, details

pytestmark = pytest.mark.django_db


def pay(scope, invoice, amount, **kw):
    values = {"currency": "USD", "paid_at": "2026-03-10", "method": "bank_transfer", "reference": "SEPA 1",
              "now": NOW + timedelta(days=6), **kw}
    return payment_record(scope=scope, invoice_id=invoice.pk, amount=amount, **values)


@pytest.fixture
def usd_invoice(world):
    scope, acct = customer_held_usd_month(world)
    details(scope, world.customer_a1, currency="USD")
    close_and_issue(scope)
    return scope, acct, Invoice.objects.get()  # 480.00 USD due


def test_partial_then_full_payment(world, usd_invoice):
    scope, _, inv = usd_invoice
    pay(scope, inv, "100.50")
    inv.refresh_from_db()
    assert inv.status == InvoiceStatus.PARTIALLY_PAID and invoice_amounts(inv)["amount_due"] == Decimal("379.50")
    pay(scope, inv, "379.50", reference="SEPA 2")
    inv.refresh_from_db()
    assert inv.status == InvoiceStatus.PAID and invoice_amounts(inv)["amount_due"] == 0
    assert AuditEntry.objects.filter(action="payment.record").count() == 2
    assert customer_balances(scope=scope, customer_id=world.customer_a1.pk) == {"USD": Decimal("0")}


def test_overpayment_is_credit_applied_to_the_next_invoice(world, usd_invoice):
    scope, acct, inv = usd_invoice
    payment = pay(scope, inv, "500")
    assert payment.applied_amount == Decimal("480")
    assert customer_credit(scope=scope, customer_id=world.customer_a1.pk, currency="USD") == Decimal("20")
    from billing.services.contracts import btc_price_record
    btc_price_record(scope=scope, currency="USD", period=NOV, price="60000", as_of=date(2025, 11, 30),
                     source="close", now=NOW)
    reward_make(acct, date(2025, 11, 1), 1_000_000, payout_destination="external_address",
                payout_address="bc1qcustomer")
    close_and_issue(scope, NOV)
    nov = Invoice.objects.get(period=NOV)
    # 300 USD machines + 10 % of 0.01 BTC (60 USD) = 360 USD; the 20 USD credit pays part of it at once.
    assert nov.total_amount == Decimal("360")
    assert invoice_amounts(nov)["amount_due"] == Decimal("340") and nov.status == InvoiceStatus.PARTIALLY_PAID
    assert nov.payments.get().method == "credit"
    assert customer_credit(scope=scope, customer_id=world.customer_a1.pk, currency="USD") == 0
    entries = statement_of_account(scope=scope, customer_id=world.customer_a1.pk)["USD"]
    assert [(e.what, e.debit, e.credit, e.balance) for e in entries] == [
        ("Invoice INV-2026-0001", Decimal("480"), 0, Decimal("480")),
        ("Invoice INV-2026-0002", Decimal("360"), 0, Decimal("840")),
        ("Payment (Bank transfer)", 0, Decimal("500"), Decimal("340")),
    ]


def test_voiding_a_paid_invoice_turns_its_payment_into_credit(world, usd_invoice):
    scope, _, inv = usd_invoice
    pay(scope, inv, "480")
    credit_note_issue(scope=scope, invoice_id=inv.pk, reason="Billed to the wrong customer", now=NOW)
    inv.refresh_from_db()
    assert inv.status == InvoiceStatus.VOID
    assert customer_credit(scope=scope, customer_id=world.customer_a1.pk, currency="USD") == Decimal("480")
    with pytest.raises(ValidationError, match="void"):
        pay(scope, inv, "1")
    assert customer_balances(scope=scope, customer_id=world.customer_a1.pk) == {"USD": Decimal("-480")}


def test_overdue_is_read_under_a_moved_clock(world, usd_invoice):
    scope, _, inv = usd_invoice
    assert inv.due_date == date(2026, 3, 19)
    assert invoice_status_on(inv, date(2026, 3, 19)) == InvoiceStatus.ISSUED
    assert invoice_status_on(inv, date(2026, 3, 20)) == InvoiceStatus.OVERDUE
    assert list(invoice_list(scope=scope, today=date(2026, 3, 20), status="overdue")) == [inv]
    assert list(invoice_list(scope=scope, today=date(2026, 3, 20), status="issued")) == []
    assert list(invoice_list(scope=scope, today=date(2026, 3, 19), status="issued")) == [inv]
    pay(scope, inv, "480")
    inv.refresh_from_db()
    assert invoice_status_on(inv, date(2026, 4, 1)) == InvoiceStatus.PAID


def test_payments_are_refused_field_by_field_and_change_nothing(world, usd_invoice):
    scope, _, inv = usd_invoice
    with pytest.raises(ValidationError) as exc:
        payment_record(scope=scope, invoice_id=inv.pk, amount="1.234", currency="EUR", paid_at="2026-13-01",
                       method="credit", txid="abc", now=NOW)
    assert set(exc.value.message_dict) == {"amount", "currency", "paid_at", "method", "txid"}
    with pytest.raises(ValidationError) as exc:
        payment_record(scope=scope, invoice_id=inv.pk, amount="10", currency="USD", paid_at="2026-04-01",
                       method="bank_transfer", now=NOW)
    assert "future" in exc.value.message_dict["paid_at"][0]
    with pytest.raises(PermissionDenied):
        pay(world.scope(world.dave, world.provider_a), inv, "10")
    with pytest.raises(PermissionDenied):
        pay(world.scope(world.carol, world.provider_a, world.customer_a1), inv, "10")
    assert not Payment.objects.exists()


def test_a_btc_payment_carries_its_transaction_id(world):
    from tests.billing.invoice_helpers import provider_held_month
    scope, acct = provider_held_month(world)
    from billing.services.contracts import ContractTerms, contract_version_create
    contract_version_create(scope=scope, customer_id=world.customer_a1.pk, effective_from=NOV, now=NOW,
                            terms=ContractTerms(machine_count=40, machine_fee_monthly="0.0001"))
    from tests.billing.helpers import close
    from tests.billing.invoice_helpers import OCT
    close(scope, OCT)
    close_and_issue(scope, NOV)
    inv = Invoice.objects.get(period=NOV)
    assert invoice_amounts(inv)["amount_due"] == Decimal("0.004")
    p = payment_record(scope=scope, invoice_id=inv.pk, amount="0.004", currency="btc", paid_at="2026-03-06",
                       method="btc", txid="AB" * 32, now=NOW + timedelta(days=1))
    assert p.txid == "ab" * 32
    inv.refresh_from_db()
    assert inv.status == InvoiceStatus.PAID
