"""An invoice (or credit note) as a PDF bill: A4 portrait, every figure humanized here, in Python, so the template
only places strings (TH/s, %, kWh, BTC with 8 places, fiat with 2), and the reward lines as an annex.

Why formatted here and not by template filters: the same strings go to the PDF, the pages and the tests, and a
column's width depends on them (no 24-decimal FPPS rate or raw H/s ever reaches the page).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from fractions import Fraction

from django.template.loader import render_to_string

from billing import money
from billing.invoicing import amount_str, places
from billing.models import Statement
from billing.models.invoices import Invoice, InvoiceKind
from billing.records import PAID_TO_CUSTOMER
from billing.snapshot import statement_load

_TH = 10**12


def quantity_str(quantity: Decimal, unit: str) -> str:
    if unit == "kWh":
        return f"{money.fiat_str(quantity, 3)} kWh"
    if unit == "BTC":
        return f"{money.fiat_str(quantity, 8)} BTC"
    if unit == "share":
        return f"{money.fiat_str(money.exact(quantity) * 100, 2)} %"
    if quantity == quantity.to_integral_value():
        return f"{int(quantity)} {unit}"
    return f"{money.fiat_str(quantity, 4)} {unit}"


def rate_str(rate: Decimal, currency: str, unit: str) -> str:
    if currency == "%":
        return f"{money.fiat_str(rate, 2)} %"
    digits = 8 if currency == "BTC" else (6 if unit == "kWh" else 2)
    text = money.fiat_str(rate, digits)
    if currency != "BTC" and "." in text:  # 0.065000 → 0.065, never below the currency's 2 places
        whole, frac = text.split(".")
        frac = frac.rstrip("0").ljust(2, "0")
        text = f"{whole}.{frac}"
    per = {"kWh": " / kWh", "machines": " / machine / month", "month": " / month", "share": " of fees"}.get(unit, "")
    return f"{text} {currency}{per}"


def hashrate_str(hs: Decimal | None) -> str:
    return "" if hs is None else f"{money.fiat_str(money.exact(hs) / _TH, 2)} TH/s"


def invoice_context(invoice: Invoice) -> dict:
    """Everything the document prints, as strings."""
    cur = invoice.currency
    lines = [{
        "description": ln.description, "coverage": (f"coverage {money.fiat_str(Fraction(ln.coverage_bps, 100))} %"
                                                    if ln.coverage_bps is not None else ""),
        "quantity": quantity_str(ln.quantity, ln.unit), "rate": rate_str(ln.rate, ln.rate_currency, ln.unit),
        "amount": money.fiat_str(ln.amount, places(cur)), "btc": money.btc_str(ln.amount_sats),
    } for ln in invoice.lines.all()]
    rate = ""
    if invoice.btc_price is not None:
        rate = (f"1 BTC = {money.fiat_str(invoice.btc_price, 2)} {cur} (recorded price of {invoice.period:%B %Y}, "
                f"as of {invoice.btc_price_as_of:%Y-%m-%d}; {invoice.btc_price_source})")
    annex = []
    statement = Statement.objects.filter(pk=invoice.statement_id, provider_id=invoice.provider_id).first()
    if statement is not None and invoice.kind == InvoiceKind.INVOICE:
        data = statement_load(statement)
        annex = [{
            "date": f"{ln.date:%Y-%m-%d}" if ln.date else "", "account": ln.account_name,
            "late": ln.kind == "late_reward", "hashrate": hashrate_str(ln.hashrate_hs),
            "net": money.btc_str(ln.net_sats), "share": money.fiat_str(Fraction(ln.revenue_share_bps, 100)),
            "provider": money.btc_str(ln.provider_share_sats), "customer": money.btc_str(ln.customer_share_sats),
            "paid_to": "you" if ln.paid_to == PAID_TO_CUSTOMER else "us", "tx": ln.tx_hash,
        } for ln in data.billed_lines]
        annex_total = money.btc_str(sum(ln.net_sats for ln in data.billed_lines))
    else:
        annex_total = ""
    return {
        "invoice": invoice, "title": "Credit note" if invoice.kind == InvoiceKind.CREDIT_NOTE else "Invoice",
        "seller": invoice.seller, "buyer": invoice.buyer, "lines": lines, "logo": _logo(invoice),
        "net": amount_str(invoice.net_amount, cur), "tax": amount_str(invoice.tax_amount, cur),
        "total": amount_str(invoice.total_amount, cur), "total_btc": f"{money.btc_str(invoice.total_sats)} BTC",
        "net_btc": money.btc_str(invoice.net_sats), "tax_btc": money.btc_str(invoice.tax_sats),
        "rate": rate, "is_btc": cur == "BTC", "annex": annex, "annex_total": annex_total,
        "tax_pct": money.fiat_str(Fraction(invoice.tax_rate_bps, 100)),
    }


def _logo(invoice: Invoice) -> str:
    from billing.models.invoices import BillingProfile

    uri = BillingProfile.objects.filter(provider_id=invoice.provider_id).values_list("logo_data_uri", flat=True)
    return next(iter(uri), "")


def invoice_html(invoice: Invoice) -> str:
    return render_to_string("portal/billing/invoice_document.html", invoice_context(invoice))


def invoice_pdf(invoice: Invoice) -> bytes:
    from weasyprint import HTML

    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger(name).level))
    return HTML(string=invoice_html(invoice)).write_pdf()
