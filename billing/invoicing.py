"""An invoice's figures from a closed statement: lines, tax, totals and the settlement, in words.

Why nothing is recomputed: the lines are the statement's own fee lines and its revenue share, with the satoshis the
statement charged; only the presentation in the invoice currency is added (an amount in the fee currency is taken
as it is when the currencies agree, else converted from the line's satoshis at the month's recorded BTC price,
every currency total rounded once and spread over the lines by largest remainder, like the statement does).

The invariant that ties it to the statement: held by the provider − the invoice's net charges = the statement's
net figure, to the satoshi (asserted for every invoice).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from billing import money
from billing.models import BtcPrice, FeeKind
from billing.models.invoices import InvoiceLineKind, Settlement, TaxTreatment
from billing.records import StatementData

FEE_LINE_KIND = {FeeKind.MACHINES: InvoiceLineKind.MACHINE_FEE, FeeKind.POWER: InvoiceLineKind.POWER,
                 FeeKind.MINIMUM: InvoiceLineKind.MINIMUM, FeeKind.SLA_CREDIT: InvoiceLineKind.SLA_CREDIT}


class InvoiceRefused(ValueError):
    """The statement cannot be invoiced as asked (e.g. no BTC price for the invoice currency)."""


def places(currency: str) -> int:
    return 8 if currency == "BTC" else 2


def amount_str(amount: Decimal | Fraction | int, currency: str) -> str:
    """"312.40 USD", "0.42638726 BTC": the way invoices write money."""
    return f"{money.fiat_str(amount, places(currency))} {currency}"


def sats_str(sats: int) -> str:
    return f"{money.btc_str(sats)} BTC"


@dataclass
class DraftLine:
    kind: str
    description: str
    quantity: Decimal
    unit: str
    rate: Decimal
    rate_currency: str
    amount_sats: int
    exact: Fraction  # in the invoice currency, before rounding
    coverage_bps: int | None = None
    amount: Decimal = Decimal(0)


@dataclass
class Draft:
    currency: str
    lines: list[DraftLine] = field(default_factory=list)
    net_amount: Decimal = Decimal(0)
    tax_amount: Decimal = Decimal(0)
    total_amount: Decimal = Decimal(0)
    net_sats: int = 0
    tax_sats: int = 0
    total_sats: int = 0
    tax_treatment: str = TaxTreatment.OUTSIDE_SCOPE
    tax_rate_bps: int = 0
    tax_note: str = ""
    held_by_provider_sats: int = 0
    withheld_sats: int = 0
    withheld_amount: Decimal = Decimal(0)
    payable_to_customer_sats: int = 0
    settlement: str = Settlement.CUSTOMER_PAYS
    settlement_text: str = ""
    amount_due: Decimal = Decimal(0)
    price: BtcPrice | None = None


def to_currency_exact(sats: int, currency: str, price: BtcPrice | None) -> Fraction:
    if currency == "BTC":
        return Fraction(sats, money.SATS_PER_BTC)
    if price is None:
        raise InvoiceRefused(currency)
    return Fraction(sats, money.SATS_PER_BTC) * money.exact(price.price)


def to_sats(amount: Decimal | Fraction, currency: str, price: BtcPrice | None) -> int:
    if currency == "BTC":
        return money.round_sats(money.exact(amount) * money.SATS_PER_BTC)
    if price is None:
        raise InvoiceRefused(currency)
    return money.round_sats(money.fiat_to_sats_exact(amount, price.price))


def spread(lines: list[DraftLine], currency: str) -> Decimal:
    """Round the currency total once and spread it over the lines (largest remainder): their sum is the total."""
    unit = 10 ** places(currency)
    total, parts = money.allocate_rounded([ln.exact * unit for ln in lines])
    for line, part in zip(lines, parts, strict=True):
        line.amount = Decimal(part).scaleb(-places(currency))
    return Decimal(total).scaleb(-places(currency))


def statement_lines(data: StatementData, currency: str, price: BtcPrice | None) -> list[DraftLine]:
    """The statement's charges as invoice lines: fees (as the statement priced them), the revenue share (one line
    per share rate), adjustments (a positive adjustment is in the customer's favour: a credit here)."""
    out: list[DraftLine] = []
    for fee in data.fees:
        exact = (money.exact(fee.amount) if fee.currency == currency
                 else to_currency_exact(fee.amount_sats, currency, price))
        out.append(DraftLine(FEE_LINE_KIND.get(fee.kind, InvoiceLineKind.ADJUSTMENT), fee.description,
                             fee.quantity, fee.unit, fee.unit_price, fee.currency, fee.amount_sats, exact,
                             fee.coverage_bps))
    by_bps: dict[int, list] = defaultdict(lambda: [0, 0])
    for ln in data.billed_lines:
        cell = by_bps[ln.revenue_share_bps]
        cell[0] += ln.net_sats
        cell[1] += ln.provider_share_sats
    for bps, (net, share) in sorted(by_bps.items()):
        if not share:
            continue
        pct = money.fiat_str(Fraction(bps, 100))
        out.append(DraftLine(InvoiceLineKind.REVENUE_SHARE,
                             f"Revenue share {pct} % of net rewards of {sats_str(net)}",
                             money.sats_to_btc(net), "BTC", Decimal(bps) / 100, "%", share,
                             to_currency_exact(share, currency, price)))
    for ln in data.adjustment_lines:
        out.append(DraftLine(InvoiceLineKind.ADJUSTMENT, f"Adjustment: {ln.memo}", Decimal(1), "item",
                             money.sats_to_btc(-ln.amount_sats), "BTC", -ln.amount_sats,
                             to_currency_exact(-ln.amount_sats, currency, price)))
    return out


def tax_note(treatment: str, rate_bps: int, buyer_tax_id: str) -> str:
    if treatment == TaxTreatment.RATE:
        return f"VAT {money.fiat_str(Fraction(rate_bps, 100))} %"
    if treatment == TaxTreatment.REVERSE_CHARGE:
        return (f"Reverse charge: VAT to be accounted for by the recipient (customer's VAT id {buyer_tax_id}); "
                "no VAT charged.")
    return "Outside the scope of VAT: no VAT charged."


def totals(draft: Draft) -> None:
    """Net, tax and total in the invoice currency and in satoshis (tax rounded once in each)."""
    draft.net_amount = spread(draft.lines, draft.currency) if draft.lines else Decimal(0)
    draft.net_sats = sum(ln.amount_sats for ln in draft.lines)
    rate = Fraction(draft.tax_rate_bps, money.BPS) if draft.tax_treatment == TaxTreatment.RATE else Fraction(0)
    draft.tax_amount = money.quantize(money.exact(draft.net_amount) * rate, places(draft.currency))
    draft.tax_sats = (money.round_sats(draft.net_sats * rate) if draft.currency == "BTC"
                      else to_sats(draft.tax_amount, draft.currency, draft.price) if rate else 0)
    draft.total_amount = draft.net_amount + draft.tax_amount
    draft.total_sats = draft.net_sats + draft.tax_sats


def settle(draft: Draft, held_sats: int) -> None:
    """Who pays whom, in words. The coins the provider holds for the customer pay the invoice first."""
    draft.held_by_provider_sats = held_sats
    if held_sats >= draft.total_sats:
        draft.settlement = Settlement.PROVIDER_PAYS
        draft.withheld_sats = max(draft.total_sats, 0)
        draft.withheld_amount = max(draft.total_amount, Decimal(0))
        draft.payable_to_customer_sats = held_sats - draft.total_sats
        draft.amount_due = Decimal(0)
        fees = amount_str(draft.total_amount, draft.currency)
        if draft.currency != "BTC":
            fees += f" = {sats_str(draft.total_sats)}"
        draft.settlement_text = (f"Net payable to you: {sats_str(draft.payable_to_customer_sats)} (we withheld our "
                                 f"fees of {fees} from the {sats_str(held_sats)} of your rewards we hold).")
        return
    draft.settlement = Settlement.CUSTOMER_PAYS
    draft.withheld_sats = held_sats
    draft.withheld_amount = (money.quantize(to_currency_exact(held_sats, draft.currency, draft.price),
                                            places(draft.currency)) if held_sats else Decimal(0))
    draft.amount_due = draft.total_amount - draft.withheld_amount
    draft.settlement_text = f"Amount due from you: {amount_str(draft.amount_due, draft.currency)}"
    if held_sats:
        draft.settlement_text += (f" (the {sats_str(held_sats)} of your rewards we hold, "
                                  f"{amount_str(draft.withheld_amount, draft.currency)}, were set against the total)")
    draft.settlement_text += "."


def invoice_draft(data: StatementData, *, currency: str, price: BtcPrice | None, tax_treatment: str,
                  tax_rate_bps: int, buyer_tax_id: str) -> Draft:
    """Everything an invoice says about money, from one closed statement."""
    if currency != "BTC" and price is None:
        raise InvoiceRefused(currency)
    draft = Draft(currency=currency, price=price, tax_treatment=tax_treatment,
                  tax_rate_bps=tax_rate_bps if tax_treatment == TaxTreatment.RATE else 0,
                  tax_note=tax_note(tax_treatment, tax_rate_bps, buyer_tax_id))
    draft.lines = statement_lines(data, currency, price)
    totals(draft)
    if data.held_by_provider_sats - draft.net_sats != data.customer_net_sats:
        raise AssertionError(f"invoice of {data.customer_name} disagrees with its statement")
    settle(draft, data.held_by_provider_sats)
    return draft
