"""Collections (issue 19): reminders before and after the due date, an optional late fee, and delinquency through
the pool (an overdue customer's payouts go to the provider's main balance until the balance is settled, then back).

Run once a day per provider by beat (`billing.tasks.collections_run_task`) and safe to run again at any time: each
step is a `CollectionStep` row unique per (invoice, kind, day), written in the same transaction as its e-mail
(outbox rows) and its effect (adjustment, held payout change), so a retried or doubled run does nothing twice.
Every step is audited, e-mailed to the customer's billing address (or its contacts) and listed on its pages.
Nothing here is silent: the payout switch is a held change like any other (announced, cancellable in its hold).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import money
from billing.invoicing import amount_str
from billing.models.collections import CollectionPolicy, CollectionStep, CollectionStepKind, DelinquencySwitch
from billing.models.invoices import CustomerBillingDetails, Invoice, InvoiceKind, InvoiceStatus
from billing.services.contracts import adjustment_create
from billing.services.invoices import invoice_amounts
from mining.models import MiningAccount, PayoutDestination
from mining.models.payouts import CANCELABLE_STATUSES, PayoutChangeStatus
from mining.services.payouts import payout_change_cancel, payout_change_request_by_policy
from tenants.access import Capability, Scope, scope_for_system, scoped
from tenants.audit import audit_record
from tenants.email import email_enqueue
from tenants.models import Customer, Provider

OPEN = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)
Kind = CollectionStepKind


@dataclass(frozen=True)
class PolicyInput:
    reminder_days_before_due: int
    reminder_days_after_due: str
    late_fee_bps: int
    late_fee_after_days: int
    delinquency_enabled: bool
    delinquency_after_days: int
    delinquency_notice_days: int


DAYS_WORDS = "Give whole days from 1 to 365, separated by commas (e.g. 1,7,14)."


def collection_days_parse(text: str) -> list[int]:
    """'14, 1,7' → [1, 7, 14]; ValueError on anything else (the form and the service share the rule)."""
    out = []
    for part in (text or "").replace(" ", "").split(","):
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 365:
            raise ValueError(part)
        out.append(int(part))
    return sorted(set(out))


def collection_policy_get(*, scope: Scope) -> CollectionPolicy:
    """The provider's policy, or the defaults (unsaved) when it never set one."""
    return (scoped(CollectionPolicy, scope).first()
            or CollectionPolicy(provider_id=scope.provider_id, updated_at=timezone.now()))


def collection_policy_set(*, scope: Scope, data: PolicyInput, now: datetime) -> CollectionPolicy:
    """Validated field by field; nothing is saved when one field is wrong."""
    scope.require(Capability.MANAGE_BILLING)
    errors: dict[str, str] = {}
    try:
        days_after = collection_days_parse(data.reminder_days_after_due)
    except ValueError:
        errors["reminder_days_after_due"] = DAYS_WORDS
        days_after = []
    for name, low, high in (("reminder_days_before_due", 0, 60), ("late_fee_after_days", 1, 365),
                            ("delinquency_after_days", 1, 365), ("delinquency_notice_days", 1, 60),
                            ("late_fee_bps", 0, 5000)):
        value = getattr(data, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors[name] = f"Give a whole number from {low} to {high}."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        policy = scoped(CollectionPolicy, scope).select_for_update().first()
        before = _policy_dict(policy) if policy else {}
        policy = policy or CollectionPolicy(provider_id=scope.provider_id)
        for name in PolicyInput.__dataclass_fields__:
            setattr(policy, name, getattr(data, name))
        policy.reminder_days_after_due = ",".join(str(d) for d in days_after)
        policy.updated_at = now
        policy.save()
        audit_record(scope=scope, action="collection_policy.set", target=policy, before=before,
                     after=_policy_dict(policy))
    return policy


def _policy_dict(policy: CollectionPolicy) -> dict:
    return {name: getattr(policy, name) for name in PolicyInput.__dataclass_fields__}


def _recipients(scope: Scope, customer: Customer) -> list[str]:
    details = scoped(CustomerBillingDetails, scope).filter(customer_id=customer.pk).first()
    if details and details.billing_email:
        return [details.billing_email]
    return [a for a in (customer.contact_emails or []) if isinstance(a, str)]


def _take(scope: Scope, invoice: Invoice, kind: str, day: int, detail: str, now: datetime, *, subject: str = "",
          body: str = "", effect=None) -> bool:
    """Take one step once: the step row, its effect and its e-mail commit together or not at all."""
    try:
        with transaction.atomic():
            step = CollectionStep.objects.create(provider_id=invoice.provider_id, customer_id=invoice.customer_id,
                                                 invoice=invoice, kind=kind, day=day, taken_at=now,
                                                 detail=detail[:500])
            if effect is not None:
                extra = effect()
                if extra:
                    step.detail = f"{detail} {extra}"[:500]
                    step.save(update_fields=["detail"])
            if subject:
                email_enqueue(provider_id=invoice.provider_id, customer_id=invoice.customer_id,
                              recipients=_recipients(scope, invoice.customer), subject=subject, body=body,
                              dedupe_key=f"collections:{invoice.pk}:{kind}:{day}", now=now)
            audit_record(scope=scope, action=f"collections.{kind}", target=invoice,
                         after={"invoice": invoice.number, "day": day, "detail": step.detail})
    except IntegrityError:
        return False  # taken already (a second run, or another worker at the same moment)
    return True


@dataclass
class CollectionsReport:
    reminders: int = 0
    late_fees: int = 0
    warnings: int = 0
    switched_accounts: int = 0
    restored_accounts: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def collections_run(*, provider_id: int, today: date | None = None, now: datetime | None = None) -> CollectionsReport:
    """One day's collections for one provider (beat runs it daily; any repeat is harmless)."""
    now = now or timezone.now()
    today = today or now.date()
    scope = scope_for_system(provider_id=provider_id, actor="task:collections")
    policy = collection_policy_get(scope=scope)
    provider = scoped(Provider, scope).get()
    report = CollectionsReport()
    invoices = (scoped(Invoice, scope).select_related("customer")
                .filter(kind=InvoiceKind.INVOICE, status__in=OPEN).order_by("due_date", "pk"))
    for invoice in invoices:
        due = invoice_amounts(invoice)["amount_due"]
        if due <= 0:
            continue
        _invoice_steps(scope, provider, policy, invoice, due, today, now, report)
    _restore_settled(scope, provider, policy, today, now, report)
    return report


def _invoice_steps(scope: Scope, provider: Provider, policy: CollectionPolicy, invoice: Invoice, due: Decimal,
                   today: date, now: datetime, report: CollectionsReport) -> None:
    days = (today - invoice.due_date).days
    amount = amount_str(due, invoice.currency)
    sign_off = f"\n\n{provider.name}"
    if policy.reminder_days_before_due and -policy.reminder_days_before_due <= days < 0:
        day = -policy.reminder_days_before_due
        report.reminders += _take(
            scope, invoice, Kind.REMINDER_BEFORE, day, f"Reminded {-day} days before the due date ({amount} due).",
            now, subject=f"Invoice {invoice.number}: {amount} due on {invoice.due_date:%d %b %Y}",
            body=(f"A reminder: invoice {invoice.number} for {invoice.period:%B %Y} is due on "
                  f"{invoice.due_date:%d %B %Y}. Amount due from you: {amount}.{sign_off}"))
    passed = [d for d in collection_days_parse(policy.reminder_days_after_due) if d <= days]
    if passed:
        day = passed[-1]  # after a pause, only the latest reminder is sent, never a burst of them
        report.reminders += _take(
            scope, invoice, Kind.REMINDER_AFTER, day, f"Reminded {day} days after the due date ({amount} due).",
            now, subject=f"Invoice {invoice.number} is overdue: {amount}",
            body=(f"Invoice {invoice.number} for {invoice.period:%B %Y} was due on {invoice.due_date:%d %B %Y} and is "
                  f"{days} days overdue. Amount due from you: {amount}.{sign_off}"))
    if policy.late_fee_bps and days >= policy.late_fee_after_days:
        report.late_fees += _take(scope, invoice, Kind.LATE_FEE, policy.late_fee_after_days,
                                  f"Late fee of {Decimal(policy.late_fee_bps) / 100:.2f} % of {amount}.", now,
                                  effect=lambda: _late_fee(scope, invoice, due, policy, today, now),
                                  subject=f"Invoice {invoice.number}: late fee",
                                  body=(f"Invoice {invoice.number} is {days} days overdue; a late fee of "
                                        f"{Decimal(policy.late_fee_bps) / 100:.2f} % of {amount} is added to your "
                                        f"{today:%B %Y} statement.{sign_off}"))
    if policy.delinquency_enabled and days >= policy.delinquency_after_days:
        _delinquency(scope, provider, policy, invoice, amount, days, today, now, report)


def _late_fee(scope: Scope, invoice: Invoice, due: Decimal, policy: CollectionPolicy, today: date,
              now: datetime) -> str:
    """The fee is an adjustment in this month's statement (negative: the customer owes more), in satoshis at the
    invoice's recorded price; billed with the month, like every other charge."""
    fee = Fraction(due) * policy.late_fee_bps / 10_000  # exact, rounded once with the one rounding mode
    if invoice.currency == "BTC":
        sats = int(money.quantize(fee * money.SATS_PER_BTC, 0))
    elif invoice.btc_price:
        sats = int(money.quantize(fee / Fraction(invoice.btc_price) * money.SATS_PER_BTC, 0))
    else:
        return "Not charged: the invoice records no BTC price to convert it at."
    if sats <= 0:
        return "Not charged: under one satoshi."
    try:
        adjustment_create(scope=scope, customer_id=invoice.customer_id, period=today.replace(day=1),
                          amount_sats=-sats, memo=f"Late fee on invoice {invoice.number}", now=now)
    except ValidationError as exc:
        return "Not charged: " + " ".join(m for ms in exc.message_dict.values() for m in ms)
    return f"Charged {sats:,} sats on the {today:%B %Y} statement."


def _delinquency(scope: Scope, provider: Provider, policy: CollectionPolicy, invoice: Invoice, amount: str, days: int,
                 today: date, now: datetime, report: CollectionsReport) -> None:
    warned = invoice.collection_steps.filter(kind=Kind.DELINQUENCY_WARNING).first()
    if warned is None:
        on = today + timedelta(days=policy.delinquency_notice_days)
        report.warnings += _take(
            scope, invoice, Kind.DELINQUENCY_WARNING, days,
            f"Warned that payouts go to {provider.name}'s main balance from {on:%d %b %Y} unless settled.", now,
            subject=f"Invoice {invoice.number}: payouts will be held from {on:%d %b %Y}",
            body=(f"Invoice {invoice.number} is {days} days overdue ({amount} due from you). Unless it is settled by "
                  f"{on:%d %B %Y}, the pool will pay your accounts' rewards to {provider.name}'s WhiteBIT main "
                  "balance until it is; they are switched back when your balance is settled, and every change is "
                  f"announced before it reaches the pool.\n\n{provider.name}"))
        return
    if (today - warned.taken_at.date()).days < policy.delinquency_notice_days:
        return
    accounts = list(scoped(MiningAccount, scope).filter(customer_id=invoice.customer_id).order_by("name"))
    switched: list[str] = []
    unknown: list[str] = []

    def switch() -> str:
        for account in accounts:
            if scoped(DelinquencySwitch, scope).filter(account=account, restored_at__isnull=True).exists():
                continue
            if not account.payout_destination:
                unknown.append(account.name)  # never synced: what to give back later is not known
                continue
            change = payout_change_request_by_policy(
                scope=scope, account_id=account.pk, destination=PayoutDestination.MAIN_BALANCE,
                label=f"Collection policy: invoice {invoice.number} {days} days overdue", now=now)
            if change is None:
                continue  # already paid to the provider: nothing to hold back or give back
            DelinquencySwitch.objects.create(
                provider_id=invoice.provider_id, customer_id=invoice.customer_id, account=account, invoice=invoice,
                before_destination=change.before_destination, before_address=change.before_address,
                switch_change=change, switched_at=now)
            switched.append(account.name)
        words = f"Accounts: {', '.join(switched) or 'none needed a change'}."
        if unknown:
            words += f" Not switched (payout destination not synced yet): {', '.join(unknown)}."
        return words

    # Once per invoice (keyed on the policy's threshold, not today): later runs only restore.
    if _take(scope, invoice, Kind.PAYOUT_SWITCH, policy.delinquency_after_days,
             "Payouts switched to the provider's main balance.", now,
             effect=switch, subject=f"Invoice {invoice.number}: your payouts go to {provider.name} until settled",
             body=(f"Invoice {invoice.number} is {days} days overdue ({amount} due from you). As announced, the "
                   f"payouts of your accounts go to {provider.name}'s WhiteBIT main balance from the end of the hold "
                   "shown in the payout notice, until your balance is settled; then they are switched back."
                   f"\n\n{provider.name}")):
        report.switched_accounts += len(switched)


def _restore_settled(scope: Scope, provider: Provider, policy: CollectionPolicy, today: date, now: datetime,
                     report: CollectionsReport) -> None:
    """Give each held-back account its destination back once its customer owes nothing overdue past the policy's
    threshold; a switch still in its hold is simply cancelled."""
    open_switches = scoped(DelinquencySwitch, scope).filter(restored_at__isnull=True).select_related(
        "switch_change", "invoice", "account")
    for customer_id in sorted({s.customer_id for s in open_switches}):
        if _still_delinquent(scope, policy, customer_id, today):
            continue
        switches = [s for s in open_switches if s.customer_id == customer_id]
        invoice = switches[0].invoice
        names: list[str] = []

        def restore(switches=switches, names=names) -> str:
            for s in switches:
                s.switch_change.refresh_from_db()
                if s.switch_change.status in CANCELABLE_STATUSES:
                    payout_change_cancel(scope=scope, change_id=s.switch_change_id, now=now)
                elif s.switch_change.status == PayoutChangeStatus.APPLIED:
                    s.restore_change = payout_change_request_by_policy(
                        scope=scope, account_id=s.account_id, destination=s.before_destination,
                        address=s.before_address, label="Collection policy: balance settled", now=now)
                s.restored_at = now
                s.save(update_fields=["restore_change", "restored_at"])
                names.append(s.account.name)
            return f"Accounts: {', '.join(names)}."

        if any(s.switch_change.status == PayoutChangeStatus.APPLYING for s in switches):
            continue  # on its way to the pool right now: the next run gives it back once it has landed
        if _take(scope, invoice, Kind.PAYOUT_RESTORE, (today - invoice.due_date).days,
                 "Balance settled: payouts switched back.", now, effect=restore,
                 subject="Your payouts are switched back",
                 body=("Thank you: your balance is settled. The payouts of your accounts go back to where they were "
                       f"paid before ({', '.join(s.account.name for s in switches)}).\n\n{provider.name}")):
            report.restored_accounts += len(names)


def _still_delinquent(scope: Scope, policy: CollectionPolicy, customer_id: int, today: date) -> bool:
    for invoice in scoped(Invoice, scope).filter(customer_id=customer_id, kind=InvoiceKind.INVOICE, status__in=OPEN):
        if (today - invoice.due_date).days >= policy.delinquency_after_days and \
                invoice_amounts(invoice)["amount_due"] > 0:
            return True
    return False

