"""Alerts: watched conditions that open once, stay open while true, and resolve when they clear.

"One open alert per condition" is a partial unique index on (provider, condition_key) where unresolved, so two
workers evaluating the same account at once cannot open it twice. Each open/resolve notice is queued in the e-mail
outbox (tenants/email.py) in the same transaction that opens/resolves the alert, one message per recipient, so the
alert and its notice commit together; `notified_*_at` means "queued", and the outbox sends and retries after commit,
so a mail server that refuses or hangs never breaks the evaluation (or the sync that runs it).

Hashrate conditions are judged against the account's own newest 5-minute point (the pool reports zeros for a
silent fleet, so the newest point is always the present as the pool sees it); worker-offline and stale-sync
conditions against the wall clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Avg, Q
from django.utils import timezone

from mining.models import AccountHashrateSample, Alert, AlertKind, AlertRule, Interval, MiningAccount, Worker
from mining.selectors.workers import workers_offline_since
from tenants.access import Scope, get_in_scope, scope_for_system, scoped
from tenants.email import email_enqueue
from tenants.models import Customer, CustomerMembership, ProviderMembership, StaffRole

logger = logging.getLogger(__name__)
STALE_AFTER_CYCLES = 3


@dataclass(frozen=True)
class Condition:
    key: str
    kind: str
    message: str
    account: MiningAccount | None = None
    worker: Worker | None = None
    rule: AlertRule | None = None


def _fmt_hs(value: Decimal) -> str:
    units = [("EH/s", Decimal(10) ** 18), ("PH/s", Decimal(10) ** 15), ("TH/s", Decimal(10) ** 12)]
    for unit, size in units:
        if abs(value) >= size:
            return f"{(value / size).quantize(Decimal('0.01'))} {unit}"
    return f"{value.quantize(Decimal('0.01'))} H/s"


def _rules_for(scope: Scope, account: MiningAccount):
    return scoped(AlertRule, scope).filter(is_enabled=True).filter(
        Q(account_id=account.pk)
        | Q(account__isnull=True, customer_id=account.customer_id)
        | Q(account__isnull=True, customer__isnull=True)
    )


@dataclass(frozen=True)
class RecentHashrate:
    """What every hashrate rule needs: the newest 5-minute points (newest first) and the 24-hour mean."""

    points: list[tuple[datetime, Decimal]]
    day_mean_hs: Decimal | None


def _recent_hashrate(account: MiningAccount, *, minutes: int, need_mean: bool) -> RecentHashrate:
    """Two indexed reads at most; the 24-hour mean is averaged by the database, not fetched point by point."""
    samples = AccountHashrateSample.objects.filter(account=account, interval=Interval.M5)
    points = list(samples.order_by("-at").values_list("at", "hashrate_hs")[: max(1, minutes // 5)])
    mean = None
    if points and need_mean:
        mean = samples.filter(at__gt=points[0][0] - timedelta(hours=24)).aggregate(m=Avg("hashrate_hs"))["m"]
    return RecentHashrate(points, Decimal(mean) if mean is not None else None)


def _hashrate_conditions(account: MiningAccount, rule: AlertRule, recent: RecentHashrate) -> list[Condition]:
    if not recent.points:
        return []
    newest = recent.points[0][0]
    points = [hs for at, hs in recent.points if at > newest - timedelta(minutes=rule.duration_minutes)]
    if len(points) < max(1, rule.duration_minutes // 5):
        return []  # not enough data to say the condition held for the whole duration
    if rule.kind == AlertKind.HASHRATE_FLOOR and rule.floor_hs is not None:
        if all(p < rule.floor_hs for p in points):
            return [Condition(
                f"floor:{rule.pk}:{account.pk}", rule.kind,
                f"{account.name}: hashrate under {_fmt_hs(rule.floor_hs)} for {rule.duration_minutes} minutes "
                f"(now {_fmt_hs(points[0])}).", account=account, rule=rule,
            )]
    if rule.kind == AlertKind.HASHRATE_DROP and rule.drop_bps:
        mean = recent.day_mean_hs
        if mean and all(p * 10_000 < mean * rule.drop_bps for p in points):
            return [Condition(
                f"drop:{rule.pk}:{account.pk}", rule.kind,
                f"{account.name}: hashrate under {rule.drop_bps / 100:g}% of its 24-hour mean "
                f"({_fmt_hs(mean)}) for {rule.duration_minutes} minutes.", account=account, rule=rule,
            )]
    return []


def _worker_conditions(account: MiningAccount, rule: AlertRule, now: datetime) -> list[Condition]:
    cutoff = now - timedelta(minutes=rule.duration_minutes)
    workers = workers_offline_since(account=account, cutoff=cutoff)
    return [
        Condition(
            f"offline:{rule.pk}:{w.pk}", rule.kind,
            f"{account.name}: worker {w.name} offline since {w.offline_since_at:%Y-%m-%d %H:%M} UTC.",
            account=account, worker=w, rule=rule,
        )
        for w in workers
    ]


def _stale_condition(account: MiningAccount, now: datetime) -> list[Condition]:
    limit = timedelta(seconds=settings.MINING_SYNC_INTERVAL_S * STALE_AFTER_CYCLES)
    reference = account.last_synced_at or account.created_at
    if reference is None or reference + limit > now:
        return []
    reason = f" Last error: {account.sync_error}" if account.sync_error else ""
    return [Condition(
        f"stale:{account.pk}", AlertKind.SYNC_STALE,
        f"{account.name}: not synced since {reference:%Y-%m-%d %H:%M} UTC.{reason}", account=account,
    )]


def _conditions_for_account(scope: Scope, account: MiningAccount, now: datetime) -> list[Condition]:
    found = _stale_condition(account, now)
    rules = list(_rules_for(scope, account))
    hashrate_rules = [r for r in rules if r.kind in (AlertKind.HASHRATE_FLOOR, AlertKind.HASHRATE_DROP)]
    recent = RecentHashrate([], None)
    if hashrate_rules:
        recent = _recent_hashrate(
            account,
            minutes=max(r.duration_minutes for r in hashrate_rules),
            need_mean=any(r.kind == AlertKind.HASHRATE_DROP for r in hashrate_rules),
        )
    for rule in rules:
        if rule.kind in (AlertKind.HASHRATE_FLOOR, AlertKind.HASHRATE_DROP):
            found += _hashrate_conditions(account, rule, recent)
        elif rule.kind == AlertKind.WORKER_OFFLINE:
            found += _worker_conditions(account, rule, now)
    return found


def _valid_addresses(addresses: set[str]) -> set[str]:
    """Drop what is not an address (contacts are a free JSON list): one bad contact must not hold up the rest."""
    valid = set()
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            logger.warning("alert e-mail skips an invalid address %r", address)
            continue
        valid.add(address)
    return valid


def _recipients(alert: Alert, customer: Customer | None) -> tuple[list[str], list[str]]:
    """(staff, customer side): staff who act on alerts (not read-only), and the customer's contacts and users
    when the rule allows. Kept apart so the customer's own messages belong to the customer in the outbox."""
    scope = scope_for_system(provider_id=alert.provider_id)
    staff_roles = [StaffRole.OWNER, StaffRole.ADMIN, StaffRole.OPERATOR]
    staff = _valid_addresses(set(
        scoped(ProviderMembership, scope).filter(role__in=staff_roles)
        .exclude(user__email="").values_list("user__email", flat=True)
    ))
    addresses: set[str] = set()
    notify_customer = alert.rule.notify_customer if alert.rule else True
    if customer is not None and notify_customer:
        addresses.update(a for a in (customer.contact_emails or []) if isinstance(a, str))
        addresses.update(
            scoped(CustomerMembership, scope.narrowed_to_customer(customer.pk))
            .filter(receives_alert_emails=True)  # the customer's admin may opt a user out
            .exclude(user__email="").values_list("user__email", flat=True)
        )
    staff_lower = {a.lower() for a in staff}
    addresses = {a for a in _valid_addresses(addresses) if a.lower() not in staff_lower}
    return sorted(staff), sorted(addresses)


def alert_notify(*, scope: Scope, alert_id: int, event: str, now: datetime) -> int:
    """Queue the open or resolve notice once, in the caller's transaction; returns how many messages were queued.

    The conditional UPDATE on `notified_*_at` makes a retried evaluation a no-op; the outbox's dedupe key makes a
    second enqueue of the same notice a no-op too. Sending (and retrying) happens in the outbox's task.
    """
    column = "notified_open_at" if event == "open" else "notified_resolve_at"
    claimed = scoped(Alert, scope).filter(pk=alert_id, **{f"{column}__isnull": True}).update(**{column: now})
    if not claimed:
        return 0
    alert = get_in_scope(Alert.objects.select_related("rule", "provider"), scope, pk=alert_id)
    # Read through the scope: a customer of another provider (a misassigned account) gets nothing, fail closed.
    customer = scoped(Customer, scope).filter(pk=alert.customer_id).first() if alert.customer_id else None
    verb = "Alert" if event == "open" else "Resolved"
    at = alert.opened_at if event == "open" else alert.resolved_at
    provider_name = " ".join(alert.provider.name.split())  # a subject is one line
    notice = {
        "subject": f"[{provider_name}] {verb}: {alert.get_kind_display()}"[:255],
        "body": f"{alert.message}\n\n{'Opened' if event == 'open' else 'Resolved'} at {at:%Y-%m-%d %H:%M} UTC.",
        "dedupe_key": f"alert:{alert.pk}:{event}",
        "now": now,
    }
    staff, customer_side = _recipients(alert, customer)
    queued = email_enqueue(provider_id=alert.provider_id, recipients=staff, **notice)
    if customer is not None:
        queued += email_enqueue(provider_id=alert.provider_id, customer_id=customer.pk, recipients=customer_side,
                                **notice)
    return len(queued)


def _open(scope: Scope, cond: Condition, now: datetime) -> Alert | None:
    account = cond.account
    with transaction.atomic():  # the alert and its notice commit together
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    provider_id=scope.provider_id,
                    customer_id=account.customer_id if account else None,
                    account=account, worker=cond.worker, rule=cond.rule, kind=cond.kind,
                    condition_key=cond.key, message=cond.message, opened_at=now,
                )
        except IntegrityError:  # opened concurrently by another evaluation: one open alert per condition
            return None
        alert_notify(scope=scope, alert_id=alert.pk, event="open", now=now)
    return alert


def alerts_evaluate_account(*, scope: Scope, account_id: int, now: datetime | None = None) -> dict[str, int]:
    """Open alerts for conditions that now hold, resolve the account's open alerts whose condition cleared."""
    now = now or timezone.now()
    account = get_in_scope(MiningAccount, scope, pk=account_id)
    conditions = {c.key: c for c in _conditions_for_account(scope, account, now)}
    open_alerts = {a.condition_key: a for a in scoped(Alert, scope).filter(account=account, resolved_at__isnull=True)}
    opened = resolved = 0
    for key, cond in conditions.items():
        if key not in open_alerts and _open(scope, cond, now):
            opened += 1
    for key, alert in open_alerts.items():
        if key not in conditions:
            with transaction.atomic():  # the resolution and its notice commit together
                if scoped(Alert, scope).filter(pk=alert.pk, resolved_at__isnull=True).update(resolved_at=now):
                    resolved += 1
                    alert_notify(scope=scope, alert_id=alert.pk, event="resolve", now=now)
    return {"opened": opened, "resolved": resolved}
