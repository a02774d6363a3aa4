"""Golden invoices under the fixed clock (issued 2026-03-05): figures worked out by hand in the comments."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.models import Statement
from billing.models.invoices import Invoice, InvoiceKind, InvoiceStatus
from billing.services.invoices import credit_note_issue, invoice_amounts, invoices_issue_month
from tenants.models import AuditEntry
from tests.billing.helpers import NOW, close
from tests.billing.invoice_helpers import (
    NOV,
    OCT,
    close_and_issue,
    customer_held_usd_month,
    details,
    profile,
    provider_held_month,
)

pytestmark = pytest.mark.django_db


def lines(invoice):
    return [(ln.kind, ln.quantity, ln.unit, ln.rate, ln.rate_currency, ln.amount, ln.amount_sats)
            for ln in invoice.lines.all()]


def test_provider_held_btc_fees_withheld_and_net_payable_in_words(world):
    scope, _ = provider_held_month(world)
    profile(scope)
    details(scope, world.customer_a1)
    result = close_and_issue(scope)
    assert (result.issued, result.already) == (1, 0)
    inv = Invoice.objects.get(customer=world.customer_a1)
    # 2 machines × 0.0001 BTC = 20,000 sats; 20 % of 300,000 sats net = 60,000 sats; charges 80,000 sats.
    assert lines(inv) == [
        ("machine_fee", Decimal("2"), "machines", Decimal("0.0001"), "BTC", Decimal("0.0002"), 20_000),
        ("revenue_share", Decimal("0.003"), "BTC", Decimal("20"), "%", Decimal("0.0006"), 60_000),
    ]
    assert (inv.number, inv.issue_date, inv.due_date) == ("DH-2026-0001", date(2026, 3, 5), date(2026, 3, 19))
    assert (inv.net_sats, inv.tax_sats, inv.total_sats, inv.total_amount) == (80_000, 0, 80_000, Decimal("0.0008"))
    assert inv.settlement == "provider_pays" and inv.payable_to_customer_sats == 220_000
    # The statement's own net figure: 240,000 sats customer share − 20,000 sats fees.
    assert Statement.objects.get(customer=world.customer_a1).customer_net_sats == 220_000
    assert inv.settlement_text == ("Net payable to you: 0.00220000 BTC (we withheld our fees of 0.00080000 BTC "
                                   "from the 0.00300000 BTC of your rewards we hold).")
    assert inv.status == InvoiceStatus.PAID and invoice_amounts(inv)["amount_due"] == 0
    assert inv.seller["legal_name"] == "Alpha Hosting Ltd" and inv.buyer["legal_name"] == "Carol Mining LLC"
    assert inv.tax_note == "Outside the scope of VAT: no VAT charged."
    assert AuditEntry.objects.filter(action="invoice.issue", object_id=str(inv.pk)).exists()


def test_customer_held_fiat_fees_with_vat_amount_due_in_words(world):
    scope, _ = customer_held_usd_month(world)
    profile(scope)
    details(scope, world.customer_a1, currency="USD", tax_treatment="rate", tax_rate_bps=2000)
    close_and_issue(scope)
    inv = Invoice.objects.get(customer=world.customer_a1)
    # Machines 2 × 150 = 300 USD (500,000 sats at 60,000); share 10 % of 0.03 BTC = 300,000 sats = 180 USD.
    assert lines(inv) == [
        ("machine_fee", Decimal("2"), "machines", Decimal("150"), "USD", Decimal("300"), 500_000),
        ("revenue_share", Decimal("0.03"), "BTC", Decimal("10"), "%", Decimal("180"), 300_000),
    ]
    # VAT 20 % of 480 = 96 USD = 160,000 sats; total 576 USD = 960,000 sats; the customer holds every coin.
    assert (inv.net_amount, inv.tax_amount, inv.total_amount) == (Decimal("480"), Decimal("96"), Decimal("576"))
    assert (inv.net_sats, inv.tax_sats, inv.total_sats) == (800_000, 160_000, 960_000)
    assert inv.settlement_text == "Amount due from you: 576.00 USD."
    assert inv.tax_note == "VAT 20.00 %" and inv.btc_price == Decimal("60000")
    assert inv.status == InvoiceStatus.ISSUED and invoice_amounts(inv)["amount_due"] == Decimal("576")


def test_reverse_charge_needs_a_tax_id_and_charges_no_vat(world):
    scope, _ = customer_held_usd_month(world)
    with pytest.raises(ValidationError) as exc:
        details(scope, world.customer_a1, currency="USD", tax_treatment="reverse_charge")
    assert "tax_id" in exc.value.message_dict
    details(scope, world.customer_a1, currency="USD", tax_treatment="reverse_charge", tax_id="DE123456789")
    close_and_issue(scope)
    inv = Invoice.objects.get(customer=world.customer_a1)
    assert (inv.tax_amount, inv.total_amount) == (Decimal("0"), Decimal("480"))
    assert "Reverse charge" in inv.tax_note and "DE123456789" in inv.tax_note
    assert inv.settlement_text == "Amount due from you: 480.00 USD."


def test_partly_held_coins_are_set_against_the_total(world):
    """Fees larger than the coins the provider holds: the rest is due, in the invoice currency."""
    scope, acct = provider_held_month(world)
    details(scope, world.customer_a1)
    from billing.services.contracts import ContractTerms, contract_version_create
    contract_version_create(scope=scope, customer_id=world.customer_a1.pk, effective_from=NOV, now=NOW,
                            terms=ContractTerms(revenue_share_bps=2000, machine_count=40,
                                                machine_fee_monthly="0.0001"))
    from tests.billing.factories import reward_make
    reward_make(acct, date(2025, 11, 1), 100_000)
    close(scope, OCT)
    close_and_issue(scope, NOV)
    inv = Invoice.objects.get(customer=world.customer_a1, period=NOV)
    # 40 × 0.0001 = 0.004 BTC + 20 % of 100,000 = 20,000 sats: 420,000 sats; 100,000 held → 320,000 due.
    assert inv.total_sats == 420_000 and inv.withheld_sats == 100_000
    assert inv.settlement_text == ("Amount due from you: 0.00320000 BTC (the 0.00100000 BTC of your rewards we "
                                   "hold, 0.00100000 BTC, were set against the total).")


def test_fiat_invoice_without_a_btc_price_is_refused_and_nothing_is_issued(world):
    scope, _ = provider_held_month(world)
    details(scope, world.customer_a1, currency="EUR")
    close(scope, OCT)
    with pytest.raises(ValidationError, match="no BTC price in EUR"):
        invoices_issue_month(scope=scope, period=OCT, now=NOW)
    assert not Invoice.objects.exists()


def test_issuing_an_open_month_is_refused(world):
    scope, _ = provider_held_month(world)
    with pytest.raises(ValidationError, match="not closed"):
        invoices_issue_month(scope=scope, period=OCT, now=NOW)


def test_issuing_twice_issues_once_and_numbers_are_gapless_per_year(world):
    scope, _ = provider_held_month(world)
    from tests.billing.factories import account_make, reward_make
    from tests.billing.helpers import contract
    contract(scope, world.customer_a2, OCT, revenue_share_bps=1000)
    reward_make(account_make(world.provider_a, world.customer_a2), date(2025, 10, 5), 50_000)
    first = close_and_issue(scope)
    again = invoices_issue_month(scope=scope, period=OCT, now=NOW)
    assert (first.issued, again.issued, again.already) == (2, 0, 2)
    # Names order the month: Carol then Eve; the default prefix is INV.
    assert list(Invoice.objects.order_by("sequence").values_list("number", "customer__name")) == [
        ("INV-2026-0001", "Carol Mining"), ("INV-2026-0002", "Eve Hashing")]
    note = credit_note_issue(scope=scope, invoice_id=Invoice.objects.get(sequence=1).pk, reason="Wrong rate",
                             now=NOW)
    assert note.number == "INV-2026-0003"
    # Another provider counts on its own.
    from tests.billing.helpers import system_scope
    scope_b = system_scope(world.provider_b)
    contract(scope_b, world.customer_b1, OCT, revenue_share_bps=1000)
    reward_make(account_make(world.provider_b, world.customer_b1), date(2025, 10, 5), 50_000)
    close_and_issue(scope_b)
    assert Invoice.objects.get(provider=world.provider_b).number == "INV-2026-0001"


def test_full_credit_note_voids_and_partial_one_reduces(world):
    scope, _ = customer_held_usd_month(world)
    details(scope, world.customer_a1, currency="USD", tax_treatment="rate", tax_rate_bps=2000)
    close_and_issue(scope)
    inv = Invoice.objects.get(kind=InvoiceKind.INVOICE)
    with pytest.raises(ValidationError) as exc:
        credit_note_issue(scope=scope, invoice_id=inv.pk, reason="", amount="-3", now=NOW)
    assert set(exc.value.message_dict) == {"reason", "amount"}
    # 100 USD of the net, with 20 % VAT: 120 USD credited; 456 USD remain due.
    partial = credit_note_issue(scope=scope, invoice_id=inv.pk, reason="Two days of downtime", amount="100",
                                now=NOW)
    assert (partial.kind, partial.net_amount, partial.tax_amount, partial.total_amount) == (
        "credit_note", Decimal("-100"), Decimal("-20"), Decimal("-120"))
    assert partial.settlement_text == "Credited to you: 120.00 USD against INV-2026-0001 (0.00200000 BTC)."
    inv.refresh_from_db()
    assert invoice_amounts(inv)["amount_due"] == Decimal("456") and inv.status == InvoiceStatus.ISSUED
    with pytest.raises(ValidationError, match="partly credited"):
        credit_note_issue(scope=scope, invoice_id=inv.pk, reason="Void", now=NOW)
    with pytest.raises(ValidationError, match="At most 456.00 USD"):
        credit_note_issue(scope=scope, invoice_id=inv.pk, reason="Too much", amount="400", now=NOW)
    credit_note_issue(scope=scope, invoice_id=inv.pk, reason="Rest", amount="380", now=NOW)
    inv.refresh_from_db()
    assert inv.status == InvoiceStatus.VOID and invoice_amounts(inv)["amount_due"] == 0
    assert inv.total_amount == Decimal("576")  # the invoice itself never changes


def test_a_whole_credit_note_mirrors_every_line(world):
    scope, _ = provider_held_month(world)
    close_and_issue(scope)
    inv = Invoice.objects.get()
    note = credit_note_issue(scope=scope, invoice_id=inv.pk, reason="Issued to the wrong entity",
                             now=NOW + timedelta(days=1))
    assert [ln[-1] for ln in lines(note)] == [-20_000, -60_000] and note.total_sats == -80_000
    inv.refresh_from_db()
    assert inv.status == InvoiceStatus.VOID
    assert AuditEntry.objects.filter(action="invoice.credit_note", object_id=str(note.pk)).exists()


def test_a_read_only_member_cannot_issue(world):
    from django.core.exceptions import PermissionDenied
    provider_held_month(world)
    with pytest.raises(PermissionDenied):
        invoices_issue_month(scope=world.scope(world.dave, world.provider_a), period=OCT, now=NOW)


def test_the_issue_invoices_command_is_idempotent(world):
    import io

    import time_machine
    from django.core.management import call_command

    scope, _ = provider_held_month(world)
    close(scope, OCT)
    with time_machine.travel(NOW, tick=False):
        out = io.StringIO()
        call_command("issue_invoices", "2025-10", "--provider", "alpha", stdout=out)
        call_command("issue_invoices", "2025-10", "--provider", "alpha", stdout=out)
    assert out.getvalue().splitlines() == ["alpha 2025-10: 1 invoices issued, 0 issued before",
                                           "alpha 2025-10: 0 invoices issued, 1 issued before"]
    assert Invoice.objects.count() == 1
