"""Reads for the portal's pages: workers, rewards, the fleet's health. Each is a fixed number of queries.

Pages list many rows; every figure a row shows is an annotation of the same query (never a query per row), which
the tests prove with 1 and with 50 rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery, Sum

from mining.models import Alert, AlertRule, Interval, MiningAccount, Reward, RewardStatus, Worker, WorkerHashrateSample
from mining.selectors_labels import alerts_with_label, customers_with_label, with_worker_labels, workers_with_label
from mining.selectors_sync import sync_health, sync_problem_filter
from tenants.access import Scope, scoped

WORKER_ROW_FIELDS = (
    "id", "provider_id", "customer_id", "account_id", "name", "status", "current_hashrate_hs", "hashrate_24h_hs",
    "hashrate_24h_until_at", "last_seen_online_at", "offline_since_at", "account__id", "account__name",
    "customer__id", "customer__name", "customer__slug",
)
WORKER_SORTS = {
    "name": (F("account__name").asc(), F("name").asc()),
    "-name": (F("account__name").desc(), F("name").desc()),
    "status": (F("status").asc(), F("account__name").asc(), F("name").asc()),
    "hashrate": (F("current_hashrate_hs").desc(nulls_last=True), F("name").asc()),
    "-hashrate": (F("current_hashrate_hs").asc(nulls_first=True), F("name").asc()),
    "hashrate_24h": (F("hashrate_24h_hs").desc(nulls_last=True), F("name").asc()),
    "last_seen": (F("last_seen_online_at").desc(nulls_last=True), F("name").asc()),
}


def worker_hashrate_anchor(*, scope: Scope) -> datetime | None:
    """The newest hourly worker point the portal holds for the scope: the end of the "last 24 h" window."""
    # Per account, the newest point is one backward step on the (provider, account, interval, at) index; a plain
    # MAX over the customer's points would read every point of the year.
    newest = (
        WorkerHashrateSample.objects.filter(provider_id=OuterRef("provider_id"), account_id=OuterRef("pk"),
                                            interval=Interval.H1)
        .order_by("-at")
        .values("at")[:1]
    )
    return scoped(MiningAccount, scope).annotate(newest=Subquery(newest)).aggregate(end=Max("newest"))["end"]


def worker_list(
    *, scope: Scope, search: str = "", status: str = "", account_id: int | None = None, sort: str = "name",
    label_id: int | None = None,
) -> QuerySet[Worker]:
    """Workers with their 24 h mean, the rollup column the worker-hashrate sync writes (`worker_means_refresh`):
    averaging 500 series per request made the sort by it the slowest page (docs/BENCHMARKS.md §6); and their
    labels (one prefetch for the page)."""
    # Only the columns the tables show: a page is 100 rows with their account and customer, and parsing every
    # column of all three was a measurable part of the page (docs/BENCHMARKS.md §6).
    qs = with_worker_labels(scoped(Worker, scope).select_related("account", "customer").only(*WORKER_ROW_FIELDS))
    qs = workers_with_label(qs, label_id)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(account__name__icontains=search))
    if status in Worker.Status.values:
        qs = qs.filter(status=status)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    return qs.order_by(*WORKER_SORTS.get(sort, WORKER_SORTS["name"]))


def reward_list_for_page(*, scope: Scope, status: str = "") -> QuerySet[Reward]:
    qs = scoped(Reward, scope).select_related("account").order_by("-date", "account__name")
    if status in RewardStatus.values:
        qs = qs.filter(status=status)
    return qs


@dataclass(frozen=True)
class RewardTotals:
    latest_day: date | None
    latest_day_net_sats: int
    month_start: date
    month_to_date_net_sats: int
    pending_net_sats: int


def reward_totals(*, scope: Scope, today: date) -> RewardTotals:
    """Net rewards (after the pool fee) of the newest day and of `today`'s month, canceled ones left out. Two
    queries."""
    live = scoped(Reward, scope).exclude(status=RewardStatus.CANCELED)
    month_start = today.replace(day=1)
    agg = live.aggregate(
        latest=Max("date"),
        mtd=Sum("reward_sats", filter=Q(date__gte=month_start, date__lte=today)),
        pending=Sum("reward_sats", filter=Q(status=RewardStatus.PENDING)),
    )
    latest_net = 0
    if agg["latest"] is not None:
        latest_net = live.filter(date=agg["latest"]).aggregate(s=Sum("reward_sats"))["s"] or 0
    return RewardTotals(agg["latest"], latest_net, month_start, agg["mtd"] or 0, agg["pending"] or 0)


@dataclass(frozen=True)
class SyncProblem:
    account: MiningAccount
    reason: str


def sync_problem_list(*, scope: Scope, now: datetime) -> list[SyncProblem]:
    """Active accounts whose copy is failing, retrying, stalled or never made, each with the reason in words
    (`selectors_sync.sync_health`, the same words every page shows). One query."""
    qs = (
        scoped(MiningAccount, scope)
        .filter(is_active=True)
        .filter(sync_problem_filter(now=now))
        .select_related("customer")
        .order_by("customer__name", "name")
    )
    problems = []
    for account in qs:
        health = sync_health(account, now=now)
        if health.is_problem:
            label = health.label if health.code != "never" else ""
            problems.append(SyncProblem(account, f"{label}: {health.reason}" if label else health.reason))
    return problems


def alert_list(*, scope: Scope, state: str = "open", label_id: int | None = None) -> QuerySet[Alert]:
    """Alerts for the alerts page: `open` (unresolved), `unacknowledged` (open and nobody has taken it), `all`;
    with `label_id`, only those about an account or worker carrying that label."""
    qs = scoped(Alert, scope).select_related("account", "customer", "worker", "acknowledged_by")
    qs = alerts_with_label(qs, label_id)
    if state in ("open", "unacknowledged"):
        qs = qs.filter(resolved_at__isnull=True)
    if state == "unacknowledged":
        qs = qs.filter(acknowledged_at__isnull=True)
    return qs.order_by("-opened_at", "-pk")


def open_alert_count(*, scope: Scope) -> int:
    return scoped(Alert, scope).filter(resolved_at__isnull=True).count()


def customer_list_for_console(
    *, scope: Scope, search: str = "", status: str = "", label_id: int | None = None
) -> QuerySet:
    """Customers with their account, worker and open-alert counts: annotations of one query, not one per row."""
    from tenants.models import Customer

    accounts = (MiningAccount.objects.filter(customer=OuterRef("pk")).values("customer")
                .annotate(n=Count("pk")).values("n"))
    workers = (Worker.objects.filter(customer=OuterRef("pk")).exclude(status=Worker.Status.OFFLINE)
               .values("customer").annotate(n=Count("pk")).values("n"))
    alerts = (Alert.objects.filter(customer=OuterRef("pk"), resolved_at__isnull=True).values("customer")
              .annotate(n=Count("pk")).values("n"))
    qs = scoped(Customer, scope).annotate(
        account_count=Subquery(accounts), workers_up=Subquery(workers), open_alert_count=Subquery(alerts)
    )
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(slug__icontains=search) | Q(contact_emails__icontains=search))
    if status in Customer.Status.values:
        qs = qs.filter(status=status)
    return customers_with_label(qs, label_id).order_by("name")


def alert_rules_for_customer(*, scope: Scope) -> QuerySet[AlertRule]:
    """The enabled rules watching the scope customer's accounts: rules on an account it holds now, rules for the
    customer, and the provider's rules for everyone. Provider-wide rules are outside a customer's scope, so the read
    widens to the provider (`Scope.provider_wide_reads`, VIEW only) and filters back to what concerns this
    customer."""

    cid = scope.customer_id
    return (scoped(AlertRule, scope.provider_wide_reads()).filter(is_enabled=True)
            .filter(Q(account__customer_id=cid) | Q(account__isnull=True, customer_id=cid)
                    | Q(account__isnull=True, customer__isnull=True))
            .select_related("account").order_by("kind", "pk"))
