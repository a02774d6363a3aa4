"""Recording payments against invoices, and applying a customer's credit: each write audited.

Why `applied_amount` is stored: a payment pays the invoice up to its amount due at the time it is recorded; what
exceeds it is the customer's credit, applied to the next invoice in the same currency as a `credit` payment (when
that invoice is issued, or when staff apply it). The customer's credit is then always
    real payments − what they paid on invoices still owed (capped at each invoice's effective amount due),
so voiding an invoice through a credit note hands its payments back as credit without editing any payment.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from billing.invoicing import amount_str, places
from billing.models.invoices import Invoice, InvoiceKind, InvoiceStatus, Payment, PaymentMethod
from billing.services.invoices import invoice_amounts, invoice_status_refresh
from tenants.access import Capability, Scope, get_in_scope, scoped

TXID = re.compile(r"^[0-9a-f]{64}$")


def customer_credit(*, scope: Scope, customer_id: int, currency: str) -> Decimal:
    """The customer's unapplied credit in `currency` (overpayments, payments on voided invoices)."""
    real = Decimal(0)
    for p in scoped(Payment, scope).filter(customer_id=customer_id, currency=currency).exclude(
            method=PaymentMethod.CREDIT):
        real += p.amount
    used = Decimal(0)
    for inv in scoped(Invoice, scope).filter(customer_id=customer_id, currency=currency, kind=InvoiceKind.INVOICE):
        a = invoice_amounts(inv)
        used += min(a["paid"], max(Decimal(0), a["effective_total"] - inv.withheld_amount))
    return max(Decimal(0), real - used)


def _audit(scope: Scope, payment: Payment, invoice: Invoice, before: str) -> None:
    from tenants.audit import audit_record

    audit_record(scope=scope, action="payment.record", target=payment, before={"status": before}, after={
        "invoice": invoice.number, "amount": f"{payment.amount} {payment.currency}", "method": payment.method,
        "applied": str(payment.applied_amount), "reference": payment.reference, "txid": payment.txid,
        "paid_at": payment.paid_at, "status": invoice.status})


def payment_credit_apply(*, scope: Scope, invoice: Invoice, now: datetime) -> Payment | None:
    """Pay what the customer's credit covers of `invoice` (inside the caller's transaction)."""
    due = invoice_amounts(invoice)["amount_due"]
    credit = customer_credit(scope=scope, customer_id=invoice.customer_id, currency=invoice.currency)
    use = min(due, credit)
    if use <= 0:
        return None
    before = invoice.status
    payment = Payment.objects.create(
        provider_id=invoice.provider_id, customer_id=invoice.customer_id, invoice=invoice, paid_at=now.date(),
        amount=use, currency=invoice.currency, method=PaymentMethod.CREDIT,
        reference="Credit from earlier payments", applied_amount=use, created_at=now)
    invoice_status_refresh(invoice)
    _audit(scope, payment, invoice, before)
    return payment


def payment_record(*, scope: Scope, invoice_id: int, amount: object, currency: str, paid_at: object,
                   method: str, reference: str = "", txid: str = "", now: datetime) -> Payment:
    """Record money received for an invoice: partial, full or more (the excess becomes credit). Refused field by
    field: another currency than the invoice's, a voided invoice, a BTC transaction id that is not 64 hex digits."""
    scope.require(Capability.MANAGE_BILLING)
    errors: dict[str, str] = {}
    currency = str(currency or "").strip().upper()
    method = str(method or "").strip()
    reference = str(reference or "").strip()
    txid = str(txid or "").strip().lower()
    if method not in PaymentMethod.values or method == PaymentMethod.CREDIT:
        errors["method"] = "Choose how it was paid: bank_transfer, btc, card, cash or other."
    if isinstance(paid_at, str):
        try:
            paid_at = date.fromisoformat(paid_at.strip())
        except ValueError:
            paid_at = None
    if not isinstance(paid_at, date):
        errors["paid_at"] = "Give the date it was paid as YYYY-MM-DD."
    elif paid_at > now.date():
        errors["paid_at"] = "A payment cannot be dated in the future."
    if len(reference) > 200:
        errors["reference"] = "At most 200 characters."
    if txid and not TXID.match(txid):
        errors["txid"] = "A Bitcoin transaction id is 64 hexadecimal characters."
    if txid and method != PaymentMethod.BTC:
        errors["txid"] = "Only a Bitcoin payment carries a transaction id."
    with transaction.atomic():
        invoice = get_in_scope(Invoice.objects.select_for_update(), scope, pk=invoice_id)
        if invoice.kind != InvoiceKind.INVOICE:
            errors["invoice_id"] = f"{invoice.number} is a credit note; record payments against the invoice."
        elif invoice.status == InvoiceStatus.VOID:
            errors["invoice_id"] = f"{invoice.number} is void (fully credited); nothing is due on it."
        if currency != invoice.currency:
            errors["currency"] = f"{invoice.number} is in {invoice.currency}; record the payment in {invoice.currency}."
        try:
            value = Decimal(str(amount).strip())
        except (InvalidOperation, ValueError):
            value = Decimal(-1)
        q = Decimal(1).scaleb(-places(invoice.currency))
        if not value.is_finite() or value <= 0 or value != value.quantize(q):
            errors["amount"] = (f"Give a positive amount in {invoice.currency} with at most "
                                f"{places(invoice.currency)} decimals.")
        if errors:
            raise ValidationError(errors)
        due = invoice_amounts(invoice)["amount_due"]
        before = invoice.status
        payment = Payment.objects.create(
            provider_id=invoice.provider_id, customer_id=invoice.customer_id, invoice=invoice, paid_at=paid_at,
            amount=value, currency=currency, method=method, reference=reference, txid=txid,
            applied_amount=min(value, due), recorded_by_id=scope.user_id if scope.token_id is None else None,
            created_at=now)
        invoice_status_refresh(invoice)
        _audit(scope, payment, invoice, before)
        if value > due:
            # The excess pays the customer's other open invoices in this currency, oldest first.
            for other in scoped(Invoice, scope).filter(
                    customer_id=invoice.customer_id, currency=currency, kind=InvoiceKind.INVOICE,
                    status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID]).exclude(
                    pk=invoice.pk).order_by("due_date", "pk"):
                payment_credit_apply(scope=scope, invoice=other, now=now)
    return payment


def payment_words(payment: Payment) -> str:
    extra = payment.amount - payment.applied_amount
    text = f"{amount_str(payment.amount, payment.currency)} received"
    if extra > 0:
        text += f"; {amount_str(extra, payment.currency)} more than was due, kept as credit"
    return text
