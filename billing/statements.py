"""The statement calculation: one customer's month (or month to date) from the synced rows, exactly.

Why a single calculation for closed and running months: the month-to-date page, the close and the golden tests must
agree line for line, so there is one function (`statements_compute`) and closing merely freezes its output.
It reads in bulk for a chunk of customers (one query per table, aggregations in the database), so closing 10,000
customers is a few dozen queries, not tens of thousands.

Rules (written for customers in docs/BILLING.md):
* every reward row is billed to its own `customer_id`, the customer who held the account that day;
* successful rewards of the period are billed; pending ones listed; canceled ones left out; a successful reward
  of an already closed month not yet billed is billed now as a late-reward adjustment;
* the provider's share is allocated on the statement's total and spread over the lines by largest remainder;
* fees are worked out in the fee currency exactly, converted to satoshis once per currency and spread likewise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date

from django.db.models import Exists, OuterRef, Q

from billing import money
from billing.fees import FeeBuilder, coarse_day_sums_read, fees_convert, segments, slot_sums_read
from billing.models import (
    Adjustment,
    BillingMonth,
    BtcPrice,
    ContractVersion,
    EnergyEntry,
    FeeKind,
    LineKind,
    MaintenanceWindow,
    PowerMode,
    StatementLine,
)
from billing.periods import day_start_at, month_end
from billing.records import PAID_TO_CUSTOMER, PAID_TO_PROVIDER, Fee, Line, StatementData
from mining.models import PayoutDestination, Reward, RewardStatus
from tenants.access import Scope, scoped
from tenants.models import Customer

__all__ = ["PAID_TO_CUSTOMER", "PAID_TO_PROVIDER", "Fee", "Line", "StatementData", "statements_compute"]


def _version_on(versions: list[ContractVersion], day: date) -> ContractVersion | None:
    for v in versions:
        if v.effective_from <= day and (v.effective_until is None or day < v.effective_until):
            return v
    return None


def _closed_months(scope: Scope, before: date) -> list[date]:
    return list(
        scoped(BillingMonth, scope.provider_wide_reads()).filter(period__lt=before, closed_at__isnull=False)
        .values_list("period", flat=True)
    )


_REWARD_FIELDS = (
    "id", "customer_id", "account_id", "account__name", "date", "total_reward_sats", "fee_sats", "reward_sats",
    "fpps_rate", "hashrate_hs", "status", "payout_destination", "payout_address", "payout_tx_hash",
)


def _rewards(scope: Scope, customer_ids: list[int], period: date, period_end: date) -> dict[int, list[tuple]]:
    """This period's successful and pending rewards, and late ones of closed months not billed yet."""
    rows: dict[int, list[tuple]] = defaultdict(list)
    qs = (
        scoped(Reward, scope)
        .filter(customer_id__in=customer_ids, date__gte=period, date__lt=period_end)
        .exclude(status=RewardStatus.CANCELED)
        .order_by("customer_id", "date", "account__name")
        .values_list(*_REWARD_FIELDS)
    )
    for row in qs.iterator(chunk_size=5000):
        rows[row[1]].append(row)
    closed = _closed_months(scope, period)
    if closed:
        in_closed = Q()
        for month in closed:
            in_closed |= Q(date__gte=month, date__lt=month_end(month))
        billed = StatementLine.objects.filter(reward_id=OuterRef("pk")).exclude(kind=LineKind.PENDING)
        late = (
            scoped(Reward, scope)
            .filter(in_closed, customer_id__in=customer_ids, status=RewardStatus.SUCCESSFUL, date__lt=period)
            .filter(~Exists(billed))
            .order_by("customer_id", "date", "account__name")
            .values_list(*_REWARD_FIELDS)
        )
        for row in late.iterator(chunk_size=5000):
            rows[row[1]].append(("late", *row))
    return rows


def _paid_to(row: tuple, version: ContractVersion | None) -> str:
    destination, address = row[-3], row[-2]
    if destination == PayoutDestination.EXTERNAL_ADDRESS and version and address in (version.customer_addresses or []):
        return PAID_TO_CUSTOMER
    return PAID_TO_PROVIDER


def _statement(customer: tuple[int, str], provider_id: int, period: date, period_end: date, versions: list,
               rewards: list[tuple], adjustments: list[Adjustment], builder: FeeBuilder,
               prices: dict[str, BtcPrice]) -> StatementData:
    customer_id, name = customer
    data = StatementData(provider_id, customer_id, name, period, period_end, [], [])
    billed: list[Line] = []
    pending: list[Line] = []
    for raw in rewards:
        late = raw[0] == "late"
        row = raw[1:] if late else raw
        (rid, _cid, account_id, account_name, day, gross, fee, net, fpps, hs, status, _dest, address, tx) = row
        version = _version_on(versions, day)
        line = Line(position=0, kind=LineKind.LATE_REWARD.value if late else LineKind.REWARD.value, reward_id=rid,
                    account_id=account_id, account_name=account_name, date=day, gross_sats=gross,
                    pool_fee_sats=fee, net_sats=net, fpps_rate=fpps, hashrate_hs=hs,
                    paid_to=_paid_to(row, version), payout_address=address, tx_hash=tx)
        if status == RewardStatus.PENDING:
            line.kind, line.customer_share_sats = LineKind.PENDING.value, net
            pending.append(line)
        else:
            line.revenue_share_bps = version.revenue_share_bps if version else 0
            billed.append(line)
    _, shares = money.provider_shares([ln.net_sats for ln in billed], [ln.revenue_share_bps for ln in billed])
    for line, share in zip(billed, shares, strict=True):
        line.provider_share_sats = share
        line.customer_share_sats = line.net_sats - share
    manual = [Line(position=0, kind=LineKind.ADJUSTMENT.value, memo=a.memo, amount_sats=a.amount_sats)
              for a in adjustments]
    data.lines = billed + pending + manual
    for i, line in enumerate(data.lines):
        line.position = i
    for seg in segments(versions, period, period_end):
        builder.segment(seg)
    data.fees, data.sla = builder.fees, builder.sla
    fees_convert(data, prices)
    _totals(data)
    return data


def _totals(data: StatementData) -> None:
    billed = data.billed_lines
    data.gross_sats = sum(ln.gross_sats for ln in billed)
    data.pool_fee_sats = sum(ln.pool_fee_sats for ln in billed)
    data.net_sats = sum(ln.net_sats for ln in billed)
    data.provider_share_sats = sum(ln.provider_share_sats for ln in billed)
    data.customer_share_sats = sum(ln.customer_share_sats for ln in billed)
    data.held_by_provider_sats = sum(ln.net_sats for ln in billed if ln.paid_to == PAID_TO_PROVIDER)
    data.held_by_customer_sats = sum(ln.net_sats for ln in billed if ln.paid_to == PAID_TO_CUSTOMER)
    data.hosting_fee_sats = sum(f.amount_sats for f in data.fees if f.kind != FeeKind.SLA_CREDIT)
    data.sla_credit_sats = -sum(f.amount_sats for f in data.fees if f.kind == FeeKind.SLA_CREDIT)
    data.adjustments_sats = sum(ln.amount_sats for ln in data.adjustment_lines)
    data.pending_sats = sum(ln.net_sats for ln in data.pending_lines)
    owed_to_customer = sum(ln.customer_share_sats for ln in billed if ln.paid_to == PAID_TO_PROVIDER)
    owed_to_provider = sum(ln.provider_share_sats for ln in billed if ln.paid_to == PAID_TO_CUSTOMER)
    data.customer_net_sats = (owed_to_customer - owed_to_provider - data.hosting_fee_sats + data.sla_credit_sats
                              + data.adjustments_sats)


def statements_compute(*, scope: Scope, period: date, period_end: date | None = None,
                       customer_ids: Iterable[int]) -> Iterator[StatementData]:
    """The statements of `customer_ids` for [period, period_end) (default: the whole month), in name order.

    `period_end` earlier than the month's end gives a month-to-date statement over the completed UTC days.
    Customers with nothing to bill (no contract, no rewards, no adjustments) yield nothing.
    """
    period_end = period_end or month_end(period)
    ids = sorted(set(customer_ids))
    customers = list(scoped(Customer, scope).filter(pk__in=ids).order_by("name", "pk").values_list("pk", "name"))
    ids = [c[0] for c in customers]
    provider_scope = scope.provider_wide_reads()
    prices = {p.currency: p for p in scoped(BtcPrice, provider_scope).filter(period=period)}
    windows = list(scoped(MaintenanceWindow, provider_scope).filter(
        Q(customer__isnull=True) | Q(customer_id__in=ids),
        starts_at__lt=day_start_at(period_end), ends_at__gt=day_start_at(period)))
    versions: dict[int, list[ContractVersion]] = defaultdict(list)
    for v in scoped(ContractVersion, scope).filter(customer_id__in=ids).order_by("effective_from"):
        versions[v.customer_id].append(v)
    rewards = _rewards(scope, ids, period, period_end)
    adjustments: dict[int, list[Adjustment]] = defaultdict(list)
    for a in scoped(Adjustment, scope).filter(customer_id__in=ids, period=period).order_by("created_at", "pk"):
        adjustments[a.customer_id].append(a)
    energy = {e.customer_id: e for e in scoped(EnergyEntry, scope).filter(customer_id__in=ids, period=period)}
    measured = [cid for cid in ids if any(
        seg.version.power_mode == PowerMode.HASHRATE or seg.version.sla_uptime_bps
        for seg in segments(versions[cid], period, period_end))]
    slot_sums = slot_sums_read(scope, measured, period, period_end)
    coarse = coarse_day_sums_read(scope, [cid for cid in measured if any(
        seg.version.power_mode == PowerMode.HASHRATE for seg in segments(versions[cid], period, period_end))],
        period, period_end)
    for customer in customers:
        cid = customer[0]
        builder = FeeBuilder(period, slot_sums.get(cid, {}), coarse.get(cid, {}), windows, cid, energy.get(cid))
        data = _statement(customer, scope.provider_id, period, period_end, versions[cid], rewards.get(cid, []),
                          adjustments[cid], builder, prices)
        if not data.is_empty:
            yield data
