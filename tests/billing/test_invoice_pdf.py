"""The invoice PDF is a bill: A4 portrait, every character of every page inside the page, page numbers, the total
once, humanized units, and the reward annex with whole transaction ids."""

from __future__ import annotations

import io
import re
from datetime import date

import pdfplumber
import pytest

from billing.invoice_pdf import invoice_pdf
from billing.models.invoices import Invoice
from billing.services.contracts import ContractTerms, contract_version_create
from billing.services.invoices import credit_note_issue
from tests.billing.factories import account_make, reward_make, samples_make
from tests.billing.helpers import NOW
from tests.billing.invoice_helpers import OCT, close_and_issue, customer_held_usd_month, details, profile

pytestmark = pytest.mark.django_db

A4 = (595.28, 841.89)


def pages_text(pdf_bytes: bytes) -> list[str]:
    out = []
    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        for page in pdf.pages:
            assert (round(float(page.width), 1), round(float(page.height), 1)) == (round(A4[0], 1), round(A4[1], 1))
            outside = [c["text"] for c in page.chars
                       if c["x0"] < 0 or c["x1"] > page.width or c["top"] < 0 or c["bottom"] > page.height]
            assert not outside, f"page {page.page_number}: characters outside the page: {''.join(outside)[:80]}"
            # Inside the printable area too (the 14 mm margins, with a little room for the footer).
            assert all(c["x0"] >= 30 and c["x1"] <= page.width - 30 for c in page.chars), page.page_number
            out.append(page.extract_text())
    return out


def tx_column(pdf_bytes: bytes) -> str:
    out = []
    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        for page in pdf.pages:
            header = [w for w in page.extract_words() if w["text"] == "Transaction"]
            if header:
                column = page.crop((header[0]["x0"] - 1, header[0]["bottom"], page.width, page.height - 40))
                out.append(re.sub(r"\s+", "", column.extract_text()))
    return "".join(out)


def test_a_long_invoice_stays_on_a4_portrait_with_page_numbers_and_one_total(world, tmp_path):
    scope, acct = customer_held_usd_month(world)
    profile(scope, footer="Alpha Hosting Ltd · Registered in Iceland · VAT IS123456")
    details(scope, world.customer_a1, currency="USD", tax_treatment="rate", tax_rate_bps=2000,
            address="Carol Mining LLC\n42 Very Long Industrial Estate Road, Unit 7\n8000 Zurich, Switzerland")
    version = contract_version_create(scope=scope, customer_id=world.customer_a1.pk, effective_from=date(2025, 10, 16),
                                      now=NOW, terms=ContractTerms(
                                          revenue_share_bps=1000, fee_currency="USD", machine_count=2,
                                          machine_fee_monthly="150", power_mode="hashrate",
                                          efficiency_j_per_th="21.5", price_per_kwh="0.065",
                                          customer_addresses=["bc1qcustomer"]))
    assert version.effective_from == date(2025, 10, 16)
    samples_make(acct, date(2025, 10, 16), 16, "123456789012345")
    second = account_make(world.provider_a, world.customer_a1, name="carol_rack_b_very_long_account_name_2025")
    for day in range(1, 32):
        reward_make(second, date(2025, 10, day), 123_456_789)
    close_and_issue(scope)
    inv = Invoice.objects.get(customer=world.customer_a1)
    pdf = invoice_pdf(inv)
    (tmp_path / "long-invoice.pdf").write_bytes(pdf)  # for a look with pdftoppm
    texts = pages_text(pdf)
    n = len(texts)
    assert n >= 2
    for i, text in enumerate(texts, start=1):
        assert f"{i} / {n}" in text
    whole = "\n".join(texts)
    assert len(re.findall(r"^Total ", whole, flags=re.M)) == 1
    assert inv.number in texts[0] and "Due date 2026-03-19" in texts[0]
    # The second account is paid to the provider's balance: it holds more than the fees.
    assert "Net payable to you:" in texts[0]
    assert "TH/s" in whole and " kWh" in whole and "20.00 %" in whole
    assert not re.search(r"\d\.\d{9,}", whole), "no figure with more than 8 decimals"
    # Every transaction id is printed whole (wrapped, never cut): the transaction column, read alone, holds them.
    joined = tx_column(pdf)
    for tx in inv.statement.lines.exclude(tx_hash="").values_list("tx_hash", flat=True):
        assert tx in joined


def test_a_credit_note_pdf(world):
    scope, _ = customer_held_usd_month(world)
    details(scope, world.customer_a1, currency="USD")
    close_and_issue(scope)
    inv = Invoice.objects.get()
    note = credit_note_issue(scope=scope, invoice_id=inv.pk, reason="Machines billed twice", amount="150", now=NOW)
    texts = pages_text(invoice_pdf(note))
    assert "Credit note" in texts[0] and inv.number in texts[0] and "Machines billed twice" in texts[0]
    assert "Credited to you: 150.00 USD" in texts[0] and texts[0].count("1 / 1") == 1


def test_the_month_page_pdfs_render_for_a_look(world, tmp_path):
    """Not an assertion of looks: writes the PDFs a reviewer opens (pdftoppm) into tmp_path."""
    scope, _ = customer_held_usd_month(world, OCT)
    details(scope, world.customer_a1, currency="USD")
    close_and_issue(scope)
    (tmp_path / "invoice.pdf").write_bytes(invoice_pdf(Invoice.objects.get()))
    assert (tmp_path / "invoice.pdf").stat().st_size > 1000
