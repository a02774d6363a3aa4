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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, Sum
from django.db.models.functions import TruncDate

from billing import money
from billing.models import (
    Adjustment,
    BillingMonth,
    BtcPrice,
    ContractVersion,
    FeeKind,
    LineKind,
    MaintenanceWindow,
    PowerMode,
    StatementLine,
)
from billing.periods import SLOT, day_start_at, days_in_month, month_end
from mining.models import AccountHashrateSample, Interval, PayoutDestination, Reward, RewardStatus
from tenants.access import Scope, scope_for_system, scoped
from tenants.models import Customer

PAID_TO_PROVIDER = "provider"
PAID_TO_CUSTOMER = "customer"
# kWh from hashes computed (H/s × s) and an efficiency (J/TH): hashes/1e12 × J/TH / 3.6e6 J per kWh.
_KWH_PER_TH_J = Fraction(1, 10**12 * 3_600_000)


@dataclass(slots=True)
class Line:
    """A reward (or adjustment) line; field names are StatementLine's, so a closed one loads into the same shape."""

    position: int
    kind: str
    reward_id: int | None = None
    account_id: int | None = None
    account_name: str = ""
    date: date | None = None
    gross_sats: int = 0
    pool_fee_sats: int = 0
    net_sats: int = 0
    revenue_share_bps: int = 0
    provider_share_sats: int = 0
    customer_share_sats: int = 0
    fpps_rate: Decimal | None = None
    hashrate_hs: Decimal | None = None
    paid_to: str = ""
    payout_address: str = ""
    tx_hash: str = ""
    memo: str = ""
    amount_sats: int = 0


@dataclass
class Fee:
    """A fee or credit line; field names are StatementFee's."""

    position: int
    kind: str
    version_id: int
    start: date
    end: date
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    currency: str
    amount: Decimal
    amount_sats: int
    exact_amount: Fraction = field(default=Fraction(0), repr=False)


@dataclass
class StatementData:
    provider_id: int
    customer_id: int
    customer_name: str
    period: date
    period_end: date
    lines: list[Line]
    fees: list[Fee]
    gross_sats: int = 0
    pool_fee_sats: int = 0
    net_sats: int = 0
    provider_share_sats: int = 0
    customer_share_sats: int = 0
    held_by_provider_sats: int = 0
    held_by_customer_sats: int = 0
    hosting_fee_sats: int = 0
    sla_credit_sats: int = 0
    adjustments_sats: int = 0
    customer_net_sats: int = 0
    pending_sats: int = 0
    sla: list[dict] = field(default_factory=list)
    rates: list[dict] = field(default_factory=list)
    is_closed: bool = False
    closed_at: datetime | None = None
    content_hash: str = ""
    statement_id: int | None = None

    @property
    def billed_lines(self) -> list[Line]:
        return [ln for ln in self.lines if ln.kind in (LineKind.REWARD, LineKind.LATE_REWARD)]

    @property
    def pending_lines(self) -> list[Line]:
        return [ln for ln in self.lines if ln.kind == LineKind.PENDING]

    @property
    def adjustment_lines(self) -> list[Line]:
        return [ln for ln in self.lines if ln.kind == LineKind.ADJUSTMENT]

    @property
    def is_empty(self) -> bool:
        return not self.lines and not self.fees


@dataclass(frozen=True)
class _Segment:
    version: ContractVersion
    start: date
    end: date


def _segments(versions: list[ContractVersion], start: date, end: date) -> list[_Segment]:
    out = []
    for v in versions:
        s = max(v.effective_from, start)
        e = min(v.effective_until or end, end)
        if s < e:
            out.append(_Segment(v, s, e))
    return sorted(out, key=lambda seg: seg.start)


def _version_on(versions: list[ContractVersion], day: date) -> ContractVersion | None:
    for v in versions:
        if v.effective_from <= day and (v.effective_until is None or day < v.effective_until):
            return v
    return None


def _closed_months(scope: Scope, before: date) -> list[date]:
    return list(
        scoped(BillingMonth, scope).filter(period__lt=before, closed_at__isnull=False).values_list("period", flat=True)
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


def _slot_sums(scope: Scope, customer_ids: list[int], period: date, period_end: date) -> dict[int, dict]:
    """Per customer, the sum of its accounts' 5-minute hashrate at each point (H/s), summed in the database."""
    out: dict[int, dict] = defaultdict(dict)
    if not customer_ids:
        return out
    qs = (
        scoped(AccountHashrateSample, scope)
        .filter(customer_id__in=customer_ids, interval=Interval.M5, at__gte=day_start_at(period),
                at__lt=day_start_at(period_end))
        .values("customer_id", "at")
        .annotate(hs=Sum("hashrate_hs"))
        .values_list("customer_id", "at", "hs")
    )
    for customer_id, at, hs in qs.iterator(chunk_size=5000):
        out[customer_id][at] = hs
    return out


def _coarse_day_sums(scope: Scope, customer_ids: list[int], period: date, period_end: date) -> dict[int, dict]:
    """Per customer and UTC day, the sums of its hourly and daily points (for days without 5-minute points)."""
    out: dict[int, dict] = defaultdict(lambda: defaultdict(dict))
    if not customer_ids:
        return out
    qs = (
        scoped(AccountHashrateSample, scope)
        .filter(customer_id__in=customer_ids, interval__in=[Interval.H1, Interval.D1], at__gte=day_start_at(period),
                at__lt=day_start_at(period_end))
        .annotate(day=TruncDate("at", tzinfo=UTC))
        .values("customer_id", "interval", "day")
        .annotate(hs=Sum("hashrate_hs"))
        .values_list("customer_id", "interval", "day", "hs")
    )
    for customer_id, interval, day, hs in qs.iterator(chunk_size=5000):
        out[customer_id][day][interval] = hs
    return out


def _maintenance_slots(windows: list[MaintenanceWindow], customer_id: int, start_at: datetime,
                       end_at: datetime) -> set[datetime]:
    slots: set[datetime] = set()
    for w in windows:
        if w.customer_id not in (None, customer_id):
            continue
        # A slot is excluded when it starts inside the window.
        first = max(w.starts_at, start_at)
        offset = (first - start_at) % SLOT
        at = first if not offset else first + (SLOT - offset)
        while at < min(w.ends_at, end_at):
            slots.add(at)
            at += SLOT
    return slots


class _FeeBuilder:
    """Works out one customer's fee lines in the fee currency, exactly, segment by segment."""

    def __init__(self, period: date, slot_sums: dict, coarse: dict, windows: list[MaintenanceWindow],
                 customer_id: int):
        self.coarse = coarse
        self.period = period
        self.dim = days_in_month(period)
        self.slot_sums = slot_sums
        self.windows = windows
        self.customer_id = customer_id
        self.fees: list[Fee] = []
        self.sla: list[dict] = []

    def _add(self, seg: _Segment, kind: str, description: str, quantity: Fraction, unit: str,
             unit_price: Decimal, amount: Fraction) -> None:
        self.fees.append(Fee(
            position=len(self.fees), kind=kind, version_id=seg.version.pk, start=seg.start, end=seg.end,
            description=description, quantity=money.quantize(quantity, 8), unit=unit,
            unit_price=unit_price, currency=seg.version.fee_currency,
            amount=money.quantize(amount, 8), amount_sats=0, exact_amount=amount,
        ))

    def segment(self, seg: _Segment) -> None:
        v = seg.version
        days = (seg.end - seg.start).days
        part = Fraction(days, self.dim)
        cur = v.fee_currency
        hosting = Fraction(0)
        span = f"{days} of {self.dim} days"
        if v.machine_count and v.machine_fee_monthly:
            amount = v.machine_count * money.exact(v.machine_fee_monthly) * part
            hosting += amount
            self._add(seg, FeeKind.MACHINES, f"{v.machine_count} machines × {v.machine_fee_monthly.normalize():f} "
                      f"{cur} a month × {span}", Fraction(v.machine_count), "machines", v.machine_fee_monthly, amount)
        if v.power_mode == PowerMode.CONTRACTED and v.power_kw:
            hours = days * 24
            kwh = money.exact(v.power_kw) * hours
            amount = kwh * money.exact(v.price_per_kwh)
            hosting += amount
            self._add(seg, FeeKind.POWER, f"Contracted {v.power_kw.normalize():f} kW × {hours} h = "
                      f"{money.quantize(kwh, 3)} kWh", kwh, "kWh", v.price_per_kwh, amount)
        elif v.power_mode == PowerMode.HASHRATE and v.efficiency_j_per_th:
            hashes, used = self._hashes(seg)
            kwh = hashes * money.exact(v.efficiency_j_per_th) * _KWH_PER_TH_J
            hours = days * 24
            mean_th = hashes / (hours * 3600) / 10**12 if hours else Fraction(0)
            amount = kwh * money.exact(v.price_per_kwh)
            hosting += amount
            sources = ", ".join(f"{n} days from {what} points" for what, n in used.items() if n)
            self._add(seg, FeeKind.POWER, f"Energy from the pool's hashrate: mean {money.quantize(mean_th, 3)} TH/s "
                      f"× {v.efficiency_j_per_th.normalize():f} J/TH × {hours} h = {money.quantize(kwh, 3)} kWh "
                      f"({sources or 'no hashrate'})", kwh, "kWh", v.price_per_kwh, amount)
        if v.minimum_monthly_fee:
            floor = money.exact(v.minimum_monthly_fee) * part
            if hosting < floor:
                self._add(seg, FeeKind.MINIMUM, f"Minimum charge {v.minimum_monthly_fee.normalize():f} {cur} a month "
                          f"× {span}, less fees of {money.fiat_str(hosting, 8)} {cur}", Fraction(1), "month",
                          v.minimum_monthly_fee, floor - hosting)
                hosting = floor
        if v.sla_uptime_bps:
            self._sla(seg, hosting)

    def _hashes(self, seg: _Segment) -> tuple[Fraction, dict[str, int]]:
        """Hashes computed over the segment's days, each day from its finest synced series.

        5-minute points where the day has them; where it has none (history from before the portal synced it: the
        pool serves 3 days of 5-minute points, 7 of hourly, 30 of daily) the hourly, then the daily points.
        """
        five: dict[date, Fraction] = defaultdict(Fraction)
        for at, hs in self.slot_sums.items():
            five[at.date()] += money.exact(hs)
        used = {"5-minute": 0, "hourly": 0, "daily": 0}
        total = Fraction(0)
        day = seg.start
        while day < seg.end:
            coarse = self.coarse.get(day, {})
            if day in five:
                total += five[day] * 300
                used["5-minute"] += 1
            elif Interval.H1 in coarse:
                total += money.exact(coarse[Interval.H1]) * 3600
                used["hourly"] += 1
            elif Interval.D1 in coarse:
                total += money.exact(coarse[Interval.D1]) * 86400
                used["daily"] += 1
            day += timedelta(days=1)
        return total, used

    def _sla(self, seg: _Segment, hosting: Fraction) -> None:
        v = seg.version
        start_at, end_at = day_start_at(seg.start), day_start_at(seg.end)
        maintenance = _maintenance_slots(self.windows, self.customer_id, start_at, end_at)
        total = int((end_at - start_at) / SLOT)
        expected = total - len(maintenance)
        floor = money.exact(v.sla_hashrate_hs)
        up = sum(1 for at, hs in self.slot_sums.items()
                 if start_at <= at < end_at and at not in maintenance and money.exact(hs) >= floor)
        target = Fraction(v.sla_uptime_bps, money.BPS)
        uptime = Fraction(up, expected) if expected else Fraction(1)
        credit = Fraction(0)
        if uptime < target:
            credit = min(hosting * (target - uptime), hosting * Fraction(v.sla_credit_cap_bps, money.BPS))
        self.sla.append({
            "start": seg.start.isoformat(), "end": seg.end.isoformat(), "target_pct": money.fiat_str(target * 100),
            "hashrate_hs": f"{v.sla_hashrate_hs.normalize():f}", "slots": total, "maintenance_slots": len(maintenance),
            "up_slots": up, "uptime_pct": money.fiat_str(uptime * 100), "met": uptime >= target,
            "cap_pct": money.fiat_str(Fraction(v.sla_credit_cap_bps, 100)), "credit": money.fiat_str(credit, 8),
            "currency": v.fee_currency,
        })
        if credit:
            self._add(seg, FeeKind.SLA_CREDIT, f"Uptime {money.fiat_str(uptime * 100)}% against "
                      f"{money.fiat_str(target * 100)}%: credit of {money.fiat_str((target - uptime) * 100)}% of "
                      f"hosting fees (cap {money.fiat_str(Fraction(v.sla_credit_cap_bps, 100))}%)",
                      target - uptime, "share", money.quantize(hosting, 8), -credit)


def _convert_fees(data: StatementData, prices: dict[str, BtcPrice]) -> None:
    """Each currency's fee lines: total converted to satoshis once (named rounding), spread by largest remainder."""
    by_currency: dict[str, list[Fee]] = defaultdict(list)
    for fee in data.fees:
        by_currency[fee.currency].append(fee)
    for currency, fees in sorted(by_currency.items()):
        if currency == "BTC":
            exact = [f.exact_amount * money.SATS_PER_BTC for f in fees]
        else:
            price = prices.get(currency)
            if price is None:
                raise ValidationError({"btc_price": (
                    f"No BTC price in {currency} is recorded for {data.period:%Y-%m}, and the fees of "
                    f"{data.customer_name} are in {currency}. Record the month's BTC price, then try again."
                )})
            exact = [money.fiat_to_sats_exact(f.exact_amount, price.price) for f in fees]
            data.rates.append({"currency": currency, "price": f"{price.price.normalize():f}",
                               "as_of": price.as_of.isoformat(), "source": price.source})
        _, parts = money.allocate_rounded(exact)
        for fee, sats in zip(fees, parts, strict=True):
            fee.amount_sats = sats


def _paid_to(row: tuple, version: ContractVersion | None) -> str:
    destination, address = row[-3], row[-2]
    if destination == PayoutDestination.EXTERNAL_ADDRESS and version and address in (version.customer_addresses or []):
        return PAID_TO_CUSTOMER
    return PAID_TO_PROVIDER


def _statement(customer: tuple[int, str], provider_id: int, period: date, period_end: date, versions: list,
               rewards: list[tuple], adjustments: list[Adjustment], builder: _FeeBuilder,
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
    for seg in _segments(versions, period, period_end):
        builder.segment(seg)
    data.fees, data.sla = builder.fees, builder.sla
    _convert_fees(data, prices)
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
    # Prices and provider-wide maintenance windows belong to the provider; a customer may see those its bill uses.
    provider_scope = scope if scope.customer_id is None else scope_for_system(
        provider_id=scope.provider_id, actor="billing:statement")
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
    measured = [cid for cid in ids if any(
        seg.version.power_mode == PowerMode.HASHRATE or seg.version.sla_uptime_bps
        for seg in _segments(versions[cid], period, period_end))]
    slot_sums = _slot_sums(scope, measured, period, period_end)
    coarse = _coarse_day_sums(scope, [cid for cid in measured if any(
        seg.version.power_mode == PowerMode.HASHRATE for seg in _segments(versions[cid], period, period_end))],
        period, period_end)
    for customer in customers:
        cid = customer[0]
        builder = _FeeBuilder(period, slot_sums.get(cid, {}), coarse.get(cid, {}), windows, cid)
        data = _statement(customer, scope.provider_id, period, period_end, versions[cid], rewards.get(cid, []),
                          adjustments[cid], builder, prices)
        if not data.is_empty:
            yield data
