"""Hosting fees and the uptime SLA of one customer's statement, worked out exactly in the fee currency.

Why apart from the statement: fees are measured (contracted quantities, energy from the pool's hashrate, 5-minute
uptime slots) while rewards are copied; each side is easier to check alone. Everything here reads in bulk for a
chunk of customers; `FeeBuilder` then works per customer on what was read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.db.models.functions import TruncDate

from billing import money
from billing.models import BtcPrice, ContractVersion, FeeKind, MaintenanceWindow, PowerMode
from billing.periods import SLOT, day_start_at, days_in_month
from billing.records import Fee, StatementData
from mining.models import AccountHashrateSample, Interval
from tenants.access import Scope, scoped

# kWh from hashes computed (H/s × s) and an efficiency (J/TH): hashes/1e12 × J/TH / 3.6e6 J per kWh.
_KWH_PER_TH_J = Fraction(1, 10**12 * 3_600_000)


@dataclass(frozen=True)
class Segment:
    version: ContractVersion
    start: date
    end: date


def segments(versions: list[ContractVersion], start: date, end: date) -> list[Segment]:
    out = []
    for v in versions:
        s = max(v.effective_from, start)
        e = min(v.effective_until or end, end)
        if s < e:
            out.append(Segment(v, s, e))
    return sorted(out, key=lambda seg: seg.start)


def slot_sums_read(scope: Scope, customer_ids: list[int], period: date, period_end: date) -> dict[int, dict]:
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


def coarse_day_sums_read(scope: Scope, customer_ids: list[int], period: date, period_end: date) -> dict[int, dict]:
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


class FeeBuilder:
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

    def _add(self, seg: Segment, kind: str, description: str, quantity: Fraction, unit: str,
             unit_price: Decimal, amount: Fraction) -> None:
        self.fees.append(Fee(
            position=len(self.fees), kind=kind, version_id=seg.version.pk, start=seg.start, end=seg.end,
            description=description, quantity=money.quantize(quantity, 8), unit=unit,
            unit_price=unit_price, currency=seg.version.fee_currency,
            amount=money.quantize(amount, 8), amount_sats=0, exact_amount=amount,
        ))

    def segment(self, seg: Segment) -> None:
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

    def _hashes(self, seg: Segment) -> tuple[Fraction, dict[str, int]]:
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

    def _sla(self, seg: Segment, hosting: Fraction) -> None:
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


def fees_convert(data: StatementData, prices: dict[str, BtcPrice]) -> None:
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
