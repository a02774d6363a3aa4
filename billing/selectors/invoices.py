"""Reads of invoices and payments for pages, the API and exports: lists with their status as of today (overdue is
read, not stored), one invoice with its amounts, a customer's balance and statement of account."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from billing.models.invoices import Invoice, InvoiceKind, InvoiceStatus, Payment, PaymentMethod
from billing.services.invoices import invoice_amounts
from tenants.access import Scope, get_in_scope, scoped

OPEN = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)
_ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=24, decimal_places=8))


def invoice_status_on(invoice: Invoice, today: date) -> str:
    """The status a reader sees: an open invoice past its due date is overdue."""
    if invoice.kind == InvoiceKind.INVOICE and invoice.status in OPEN and invoice.due_date < today:
        return InvoiceStatus.OVERDUE
    return invoice.status


def invoice_list(*, scope: Scope, today: date, period: date | None = None, customer_id: int | None = None,
                 status: str | None = None) -> QuerySet[Invoice]:
    """Invoices and credit notes, newest first, each annotated with `paid` and `credited` (two subqueries)."""
    qs = scoped(Invoice, scope).select_related("customer")
    if period is not None:
        qs = qs.filter(period=period)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    qs = invoices_with_status(qs, status=status, today=today)
    paid = Payment.objects.filter(invoice_id=OuterRef("pk")).values("invoice_id").annotate(
        t=Sum("applied_amount")).values("t")
    credited = Invoice.objects.filter(credited_invoice_id=OuterRef("pk")).values("credited_invoice_id").annotate(
        t=Sum("total_amount")).values("t")
    return qs.annotate(paid=Coalesce(Subquery(paid), _ZERO), credited_neg=Coalesce(Subquery(credited), _ZERO)
                       ).order_by("-issue_date", "-sequence")


def invoices_with_status(qs: QuerySet[Invoice], *, status: str | None, today: date) -> QuerySet[Invoice]:
    """The rows whose status as of `today` is `status` (overdue is an open invoice past its due date)."""
    if status == InvoiceStatus.OVERDUE:
        return qs.filter(kind=InvoiceKind.INVOICE, status__in=OPEN, due_date__lt=today)
    if status in OPEN:
        return qs.filter(status=status).exclude(kind=InvoiceKind.INVOICE, due_date__lt=today)
    if status:
        return qs.filter(status=status)
    return qs


def invoice_amount_due(invoice: Invoice) -> Decimal:
    """From the list's annotations when present (no query), else read."""
    if hasattr(invoice, "paid") and hasattr(invoice, "credited_neg"):
        if invoice.kind != InvoiceKind.INVOICE:
            return Decimal(0)
        effective = invoice.total_amount + invoice.credited_neg
        return max(Decimal(0), effective - invoice.withheld_amount - invoice.paid)
    return invoice_amounts(invoice)["amount_due"] if invoice.kind == InvoiceKind.INVOICE else Decimal(0)


def invoice_get(*, scope: Scope, invoice_id: int) -> Invoice:
    return get_in_scope(scoped(Invoice, scope).select_related("customer", "credited_invoice"), scope, pk=invoice_id)


def payment_list(*, scope: Scope, customer_id: int | None = None, invoice_id: int | None = None) -> QuerySet[Payment]:
    qs = scoped(Payment, scope).select_related("invoice", "customer")
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if invoice_id is not None:
        qs = qs.filter(invoice_id=invoice_id)
    return qs.order_by("-paid_at", "-id")


@dataclass(frozen=True)
class AccountEntry:
    day: date
    what: str
    reference: str
    debit: Decimal
    credit: Decimal
    balance: Decimal


def statement_of_account(*, scope: Scope, customer_id: int) -> dict[str, list[AccountEntry]]:
    """Per currency, every invoice (what it asks of the customer after the coins withheld), credit note and
    payment in date order with the running balance: positive, the customer owes; negative, the customer's credit."""
    rows: dict[str, list[tuple]] = defaultdict(list)
    for inv in scoped(Invoice, scope).filter(customer_id=customer_id).order_by("issue_date", "sequence"):
        if inv.kind == InvoiceKind.INVOICE:
            rows[inv.currency].append((inv.issue_date, 0, inv.pk, f"Invoice {inv.number}", inv.number,
                                       inv.total_amount - inv.withheld_amount, Decimal(0)))
        else:
            rows[inv.currency].append((inv.issue_date, 1, inv.pk, f"Credit note {inv.number}", inv.number,
                                       Decimal(0), -inv.total_amount))
    for p in scoped(Payment, scope).filter(customer_id=customer_id).exclude(method=PaymentMethod.CREDIT).select_related(
            "invoice").order_by("paid_at", "pk"):
        rows[p.currency].append((p.paid_at, 2, p.pk, f"Payment ({p.get_method_display()})",
                                 p.reference or p.txid or p.invoice.number, Decimal(0), p.amount))
    out: dict[str, list[AccountEntry]] = {}
    for currency, items in sorted(rows.items()):
        balance = Decimal(0)
        entries = []
        for day, _order, _pk, what, ref, debit, credit in sorted(items, key=lambda r: r[:3]):
            balance += debit - credit
            entries.append(AccountEntry(day, what, ref, debit, credit, balance))
        out[currency] = entries
    return out


def customer_balances(*, scope: Scope, customer_id: int) -> dict[str, Decimal]:
    """The closing balance per currency of the statement of account."""
    return {c: (e[-1].balance if e else Decimal(0))
            for c, e in statement_of_account(scope=scope, customer_id=customer_id).items()}


def invoices_open_total(*, scope: Scope, customer_id: int, today: date) -> list[tuple[str, Decimal, int]]:
    """(currency, amount due, overdue count) over the customer's open invoices."""
    out: dict[str, list] = defaultdict(lambda: [Decimal(0), 0])
    for inv in invoice_list(scope=scope, today=today, customer_id=customer_id).filter(
            Q(status__in=OPEN), kind=InvoiceKind.INVOICE):
        cell = out[inv.currency]
        cell[0] += invoice_amount_due(inv)
        cell[1] += invoice_status_on(inv, today) == InvoiceStatus.OVERDUE
    return [(c, v[0], v[1]) for c, v in sorted(out.items())]
