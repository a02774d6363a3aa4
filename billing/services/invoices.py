"""Issuing invoices from a closed month, and credit notes: the only writes of an invoice, each audited.

Why a row lock on the number sequence: numbers are gapless per provider and year. A number is drawn inside the
issuing transaction while the sequence row is locked (SELECT … FOR UPDATE), so two issues at once wait for each
other, and a rolled-back issue gives its number back. Issuing is idempotent: a customer's month has one invoice
(a partial unique index), so running it again only issues what is missing. An invoice is never edited: a credit
note (its own number) corrects or voids it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum

from billing import money
from billing.invoicing import InvoiceRefused, amount_str, invoice_draft, places, sats_str, to_sats
from billing.models import BillingMonth, BtcPrice, Statement
from billing.models.invoices import (
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceLineKind,
    InvoiceSequence,
    InvoiceStatus,
    Settlement,
)
from billing.services.billing_details import billing_profile_get, customer_billing_details_get
from billing.snapshot import statement_load
from tenants.access import Capability, Scope, get_in_scope, scoped
from tenants.audit import audit_record


@dataclass(frozen=True)
class IssueResult:
    period: date
    issued: int
    already: int


def invoice_number_next(*, scope: Scope, year: int, prefix: str) -> tuple[int, str]:
    """The next number of the provider's year, under the sequence row's lock (call inside a transaction)."""
    InvoiceSequence.objects.get_or_create(provider_id=scope.provider_id, year=year)
    seq = scoped(InvoiceSequence.objects.select_for_update(), scope.provider_wide_reads()).get(year=year)
    seq.last_number += 1
    seq.save(update_fields=["last_number"])
    return seq.last_number, f"{prefix}-{year}-{seq.last_number:04d}"


def _seller(scope: Scope) -> dict:
    p = billing_profile_get(scope=scope)
    from tenants.models import Provider

    name = get_in_scope(Provider, scope, pk=scope.provider_id).name
    return {"name": name, "legal_name": p.legal_name or name, "address": p.address, "tax_id": p.tax_id,
            "payment_instructions": p.payment_instructions, "footer": p.footer, "prefix": p.invoice_prefix}


def _buyer(details) -> dict:
    return {"legal_name": details.legal_name or details.customer.name, "address": details.address,
            "tax_id": details.tax_id, "billing_email": details.billing_email, "customer_name": details.customer.name}


def _write_lines(invoice: Invoice, lines) -> None:
    InvoiceLine.objects.bulk_create([InvoiceLine(
        provider_id=invoice.provider_id, customer_id=invoice.customer_id, invoice=invoice, position=i,
        kind=ln.kind, description=ln.description[:600], quantity=ln.quantity, unit=ln.unit, rate=ln.rate,
        rate_currency=ln.rate_currency, amount=ln.amount, amount_sats=ln.amount_sats, coverage_bps=ln.coverage_bps,
    ) for i, ln in enumerate(lines)])


def _issue_one(scope: Scope, statement: Statement, seller: dict, prices: dict, today: date, now: datetime) -> Invoice:
    details = customer_billing_details_get(scope=scope, customer_id=statement.customer_id)
    price = prices.get(details.currency)
    try:
        draft = invoice_draft(statement_load(statement), currency=details.currency, price=price,
                              tax_treatment=details.tax_treatment, tax_rate_bps=details.tax_rate_bps,
                              buyer_tax_id=details.tax_id)
    except InvoiceRefused:
        raise ValidationError({"btc_price": (
            f"{statement.customer_name} is invoiced in {details.currency}, and no BTC price in {details.currency} "
            f"is recorded for {statement.period:%Y-%m}. Record it (Billing → BTC prices), then issue again.")}
        ) from None
    sequence, number = invoice_number_next(scope=scope, year=today.year, prefix=seller["prefix"])
    invoice = Invoice.objects.create(
        provider_id=scope.provider_id, customer_id=statement.customer_id, statement=statement,
        kind=InvoiceKind.INVOICE, number=number, year=today.year, sequence=sequence, issue_date=today,
        due_date=today + timedelta(days=details.payment_terms_days), period=statement.period,
        period_end=statement.period_end, currency=details.currency, seller=seller, buyer=_buyer(details),
        tax_treatment=draft.tax_treatment, tax_rate_bps=draft.tax_rate_bps, tax_note=draft.tax_note,
        net_amount=draft.net_amount, tax_amount=draft.tax_amount, total_amount=draft.total_amount,
        net_sats=draft.net_sats, tax_sats=draft.tax_sats, total_sats=draft.total_sats,
        held_by_provider_sats=draft.held_by_provider_sats, withheld_sats=draft.withheld_sats,
        withheld_amount=draft.withheld_amount, payable_to_customer_sats=draft.payable_to_customer_sats,
        settlement=draft.settlement, settlement_text=draft.settlement_text,
        btc_price=price.price if price else None, btc_price_as_of=price.as_of if price else None,
        btc_price_source=price.source if price else "",
        status=InvoiceStatus.PAID if draft.amount_due <= 0 else InvoiceStatus.ISSUED, created_at=now)
    _write_lines(invoice, draft.lines)
    audit_record(scope=scope, action="invoice.issue", target=invoice, after={
        "number": number, "period": statement.period, "total": f"{invoice.total_amount} {invoice.currency}",
        "settlement": invoice.settlement, "due_date": invoice.due_date})
    if draft.amount_due > 0:
        from billing.services.payments import payment_credit_apply

        payment_credit_apply(scope=scope, invoice=invoice, now=now)
    return invoice


def invoices_issue_month(*, scope: Scope, period: date, now: datetime) -> IssueResult:
    """One invoice per closed statement of the month that has none yet. Idempotent; refused (nothing written)
    for a month that is not closed, or when an invoice currency has no recorded BTC price."""
    scope.require(Capability.MANAGE_BILLING)
    month = scoped(BillingMonth, scope).filter(period=period, closed_at__isnull=False).first()
    if month is None:
        raise ValidationError({"period": (
            f"{period:%Y-%m} is not closed: invoices are issued from a closed month's statements. Close it first.")})
    today = now.date()
    with transaction.atomic():
        scoped(BillingMonth.objects.select_for_update(), scope).get(pk=month.pk)  # one issue of a month at a time
        invoiced = set(scoped(Invoice, scope).filter(period=period, kind=InvoiceKind.INVOICE)
                       .values_list("customer_id", flat=True))
        statements = [s for s in scoped(Statement, scope).filter(period=period).order_by("customer_name", "pk")
                      if s.customer_id not in invoiced]
        seller = _seller(scope)
        prices = {p.currency: p for p in scoped(BtcPrice, scope.provider_wide_reads()).filter(period=period)}
        for statement in statements:
            _issue_one(scope, statement, seller, prices, today, now)
    return IssueResult(period, len(statements), len(invoiced))


def invoice_amounts(invoice: Invoice) -> dict[str, Decimal]:
    """credited (credit notes, as a positive amount), effective total, paid (applied payments), amount due."""
    credited = -(invoice.credit_notes.aggregate(t=Sum("total_amount"))["t"] or Decimal(0))
    applied = invoice.payments.aggregate(t=Sum("applied_amount"))["t"] or Decimal(0)
    effective = invoice.total_amount - credited
    due = max(Decimal(0), effective - invoice.withheld_amount - applied)
    return {"credited": credited, "effective_total": effective, "paid": applied, "amount_due": due}


def invoice_status_refresh(invoice: Invoice) -> str:
    """The stored status from the figures: void (fully credited), paid, partially paid or issued."""
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        return invoice.status
    a = invoice_amounts(invoice)
    if a["effective_total"] <= 0 and invoice.total_amount > 0:
        status = InvoiceStatus.VOID
    elif a["amount_due"] <= 0:
        status = InvoiceStatus.PAID
    elif a["paid"] > 0:
        status = InvoiceStatus.PARTIALLY_PAID
    else:
        status = InvoiceStatus.ISSUED
    if status != invoice.status:
        Invoice.objects.filter(pk=invoice.pk).update(status=status)
        invoice.status = status
    return status


def credit_note_issue(*, scope: Scope, invoice_id: int, reason: str, now: datetime,
                      amount: object = None) -> Invoice:
    """A credit note for an issued invoice: the whole of it (the invoice becomes void) or `amount` of its net in
    the invoice currency (tax credited at the invoice's rate). The invoice itself is never changed."""
    scope.require(Capability.MANAGE_BILLING)
    reason = str(reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = "Say why the invoice is corrected (the customer reads it)."
    with transaction.atomic():
        invoice = get_in_scope(Invoice.objects.select_for_update(), scope, pk=invoice_id)
        if invoice.kind != InvoiceKind.INVOICE:
            raise ValidationError({"invoice_id": "A credit note corrects an invoice, not another credit note."})
        remaining = invoice_amounts(invoice)["effective_total"]
        if remaining <= 0:
            raise ValidationError({"invoice_id": f"{invoice.number} is already fully credited (void)."})
        full = amount in (None, "")
        if not full:
            try:
                net = Decimal(str(amount).strip())
            except InvalidOperation:
                net = Decimal(-1)
            q = Decimal(1).scaleb(-places(invoice.currency))
            if net <= 0 or net != net.quantize(q):
                errors["amount"] = (f"Give a positive amount in {invoice.currency} with at most "
                                    f"{places(invoice.currency)} decimals.")
        if errors:
            raise ValidationError(errors)
        price = BtcPrice(price=invoice.btc_price) if invoice.btc_price else None
        if full:
            if remaining != invoice.total_amount:
                raise ValidationError({"amount": (
                    f"{invoice.number} was partly credited already: credit the remaining "
                    f"{amount_str(remaining, invoice.currency)} as an amount.")})
            lines = [(ln.kind, f"Credit: {ln.description}", ln.quantity, ln.unit, ln.rate, ln.rate_currency,
                      -ln.amount, -ln.amount_sats, ln.coverage_bps) for ln in invoice.lines.all()]
            tax, tax_sats = -invoice.tax_amount, -invoice.tax_sats
        else:
            rate = Fraction(invoice.tax_rate_bps, money.BPS)
            tax = money.quantize(money.exact(net) * rate, places(invoice.currency))
            if net + tax > remaining:
                raise ValidationError({"amount": (
                    f"At most {amount_str(remaining, invoice.currency)} (with tax) of {invoice.number} is left to "
                    "credit.")})
            sats = to_sats(net, invoice.currency, price)
            tax_sats = to_sats(tax, invoice.currency, price) if tax else 0
            lines = [(InvoiceLineKind.CORRECTION, f"Correction of {invoice.number}: {reason}", Decimal(1), "item",
                      net, invoice.currency, -net, -sats, None)]
            tax, tax_sats = -tax, -tax_sats
        net_amount = sum((ln[6] for ln in lines), Decimal(0))
        net_sats = sum(ln[7] for ln in lines)
        today = now.date()
        sequence, number = invoice_number_next(scope=scope, year=today.year, prefix=invoice.seller.get("prefix")
                                               or billing_profile_get(scope=scope).invoice_prefix)
        total = net_amount + tax
        note = Invoice.objects.create(
            provider_id=invoice.provider_id, customer_id=invoice.customer_id, statement_id=invoice.statement_id,
            kind=InvoiceKind.CREDIT_NOTE, credited_invoice=invoice, number=number, year=today.year,
            sequence=sequence, issue_date=today, due_date=today, period=invoice.period,
            period_end=invoice.period_end, currency=invoice.currency, seller=invoice.seller, buyer=invoice.buyer,
            tax_treatment=invoice.tax_treatment, tax_rate_bps=invoice.tax_rate_bps, tax_note=invoice.tax_note,
            net_amount=net_amount, tax_amount=tax, total_amount=total, net_sats=net_sats, tax_sats=tax_sats,
            total_sats=net_sats + tax_sats, settlement=Settlement.CUSTOMER_PAYS,
            settlement_text=(f"Credited to you: {amount_str(-total, invoice.currency)} against {invoice.number}"
                             + ("" if invoice.currency == "BTC" else f" ({sats_str(-(net_sats + tax_sats))})")
                             + "."),
            btc_price=invoice.btc_price, btc_price_as_of=invoice.btc_price_as_of,
            btc_price_source=invoice.btc_price_source, status=InvoiceStatus.ISSUED, reason=reason, created_at=now)
        InvoiceLine.objects.bulk_create([InvoiceLine(
            provider_id=note.provider_id, customer_id=note.customer_id, invoice=note, position=i, kind=k,
            description=d[:600], quantity=q, unit=u, rate=r, rate_currency=rc, amount=a, amount_sats=s,
            coverage_bps=c) for i, (k, d, q, u, r, rc, a, s, c) in enumerate(lines)])
        before = invoice.status
        after = invoice_status_refresh(invoice)
        audit_record(scope=scope, action="invoice.credit_note", target=note, before={"status": before},
                     after={"credited_invoice": invoice.number, "total": f"{total} {invoice.currency}",
                            "reason": reason, "status": after})
    return note
