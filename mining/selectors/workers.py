"""One definition of a worker's state, read by every page, the REST API, the alerts and the exports.

The states (docs/SYNC.md "Worker state"):

* `online`: listed by the pool's `workers/names`, hashing, not among the account's low ones;
* `low`: listed, and one of the k workers lowest against their own 24 h mean, where the pool counts k low on the
  account (`miners/info`): the pool says *how many* are low but not *which*;
* `zero`: listed, but its newest hourly point is 0 H/s (connected, not hashing: the pool counts it online);
* `offline`: known to the portal and no longer listed;
* and per account the pool's **unnamed offline** workers: the pool counts more offline workers than the portal has
  ever seen listed (a worker offline since before the first sync is never named), shown as their own row.

The pool's per-account counts are the truth for totals: `low` is exactly the pool's low count (as far as listed
workers go) and `offline` is the pool's offline count, of which `offline_unnamed` are the ones without a name.
The sync writes each worker's state (`worker_states_classify`, via `worker_states_refresh`); every count below is
read from those rows and the account's counts, so every page that shows a count shows the same number. The worker
list of the pages (`worker_list`) and of the API (`worker_list_api`) are here too: one query each, every figure a
row shows an annotation of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, F, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest

from mining.models import Interval, MiningAccount, Worker, WorkerHashrateSample
from mining.selectors.labels import with_labels, with_worker_labels, workers_with_label
from tenants.access import Scope, scoped


def worker_list_api(*, scope: Scope) -> QuerySet[Worker]:
    return with_labels(scoped(Worker, scope))


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


Status = Worker.Status


@dataclass(frozen=True)
class WorkerReading:
    """What the sync knows of one worker when it decides its state."""

    name: str
    listed: bool
    current_hs: Decimal | None
    mean_24h_hs: Decimal | None


def _low_rank(reading: WorkerReading) -> tuple:
    """Lowest against its own 24 h mean first; a worker without a current point or a mean cannot be ranked and
    comes after every ranked one (by name, so the choice is stable between cycles)."""
    if reading.current_hs is None or not reading.mean_24h_hs:
        return (1, Decimal(0), reading.name)
    return (0, reading.current_hs / reading.mean_24h_hs, reading.name)


def worker_states_classify(*, readings: Iterable[WorkerReading], pool_low: int) -> dict[str, str]:
    """The state of each worker of one account, from the pool's listing, its low count and the hourly points.

    Pure, so the definition is in one place and tested on its own; the sync stores the answer on the rows.
    """
    readings = list(readings)
    states = {r.name: Status.OFFLINE.value for r in readings if not r.listed}
    listed = [r for r in readings if r.listed]
    zero = {r.name for r in listed if r.current_hs is not None and r.current_hs == 0}
    hashing = sorted((r for r in listed if r.name not in zero), key=_low_rank)
    low = {r.name for r in hashing[:max(0, pool_low)]}
    for r in listed:
        states[r.name] = (Status.ZERO if r.name in zero else Status.LOW if r.name in low else Status.ONLINE).value
    return states


@dataclass(frozen=True)
class WorkerStateCounts:
    online: int = 0
    low: int = 0
    zero: int = 0
    offline_named: int = 0
    offline_unnamed: int = 0

    @property
    def offline(self) -> int:
        return self.offline_named + self.offline_unnamed

    @property
    def listed(self) -> int:
        return self.online + self.low + self.zero

    @property
    def total(self) -> int:
        return self.listed + self.offline

    def __add__(self, other: WorkerStateCounts) -> WorkerStateCounts:
        return WorkerStateCounts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def as_dict(self) -> dict[str, int]:
        return {"online": self.online, "low": self.low, "zero": self.zero, "offline": self.offline,
                "offline_unnamed": self.offline_unnamed}


def _status_count(status: str) -> Coalesce:
    per_account = (Worker.objects.filter(account_id=OuterRef("pk"), status=status).values("account_id")
                   .annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(per_account, output_field=IntegerField()), Value(0))


def with_worker_states(qs: QuerySet[MiningAccount]) -> QuerySet[MiningAccount]:
    """Accounts annotated with their workers by state (`ws_*`): one query however many accounts."""
    return qs.annotate(
        ws_online=_status_count(Status.ONLINE), ws_low=_status_count(Status.LOW),
        ws_zero=_status_count(Status.ZERO), ws_offline_named=_status_count(Status.OFFLINE),
    ).annotate(ws_offline_unnamed=Greatest(F("workers_offline") - F("ws_offline_named"), Value(0)))


def worker_state_counts_of(account: MiningAccount) -> WorkerStateCounts:
    """The counts of one account annotated by `with_worker_states` (or read for it when it was not)."""
    if not hasattr(account, "ws_online"):
        account = with_worker_states(MiningAccount.objects.filter(pk=account.pk)).get()
    return WorkerStateCounts(account.ws_online, account.ws_low, account.ws_zero, account.ws_offline_named,
                             account.ws_offline_unnamed)


def worker_state_counts_by_account(*, scope: Scope, account_ids: list[int] | None = None
                                   ) -> dict[int, WorkerStateCounts]:
    qs = scoped(MiningAccount, scope)
    if account_ids is not None:
        qs = qs.filter(pk__in=account_ids)
    return {a.pk: worker_state_counts_of(a) for a in with_worker_states(qs).only("pk", "workers_offline")}


def worker_state_counts(*, scope: Scope, account_ids: list[int] | None = None) -> WorkerStateCounts:
    """The scope's workers by state: the sum of its accounts' counts (what the cards show). One query."""
    return sum(worker_state_counts_by_account(scope=scope, account_ids=account_ids).values(), WorkerStateCounts())


def worker_states_attach(*, scope: Scope, accounts: Iterable[MiningAccount]) -> list[MiningAccount]:
    """The accounts, each with `.worker_states` (its counts), for the account rows under the cards."""
    accounts = list(accounts)
    by_account = worker_state_counts_by_account(scope=scope, account_ids=[a.pk for a in accounts])
    for a in accounts:
        a.worker_states = by_account.get(a.pk, WorkerStateCounts())
    return accounts


@dataclass(frozen=True)
class UnnamedOffline:
    """A row for the workers tables: the pool counts `count` offline workers on the account it never named."""

    account_id: int
    account_name: str
    customer_name: str
    count: int

    @property
    def text(self) -> str:
        noun = "worker" if self.count == 1 else "workers"
        return f"{self.count} offline {noun} the pool has not named"


def unnamed_offline_list(*, scope: Scope, search: str = "", account_id: int | None = None) -> list[UnnamedOffline]:
    qs = with_worker_states(scoped(MiningAccount, scope).select_related("customer")).filter(ws_offline_unnamed__gt=0)
    if search:
        qs = qs.filter(name__icontains=search)
    if account_id is not None:
        qs = qs.filter(pk=account_id)
    return [UnnamedOffline(a.pk, a.name, a.customer.name if a.customer else "", a.ws_offline_unnamed)
            for a in qs.order_by("name")]


def workers_offline_since(*, account: MiningAccount, cutoff) -> QuerySet[Worker]:
    """The account's named workers offline since `cutoff` or earlier (the worker-offline alert)."""
    return Worker.objects.filter(account=account, status=Status.OFFLINE, offline_since_at__lte=cutoff)
