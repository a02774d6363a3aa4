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
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from billing import money
from billing.models import (
    BtcPrice,
    ContractVersion,
    CoverageFallback,
    EnergyEntry,
    FeeKind,
    MaintenanceWindow,
    PowerMode,
)
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
    """Per customer and UTC day, the sum and the number of distinct points of its hourly and daily series."""
    out: dict[int, dict] = defaultdict(lambda: defaultdict(dict))
    if not customer_ids:
        return out
    qs = (
        scoped(AccountHashrateSample, scope)
        .filter(customer_id__in=customer_ids, interval__in=[Interval.H1, Interval.D1], at__gte=day_start_at(period),
                at__lt=day_start_at(period_end))
        .annotate(day=TruncDate("at", tzinfo=UTC))
        .values("customer_id", "interval", "day")
        .annotate(hs=Sum("hashrate_hs"), n=Count("at", distinct=True))
        .values_list("customer_id", "interval", "day", "hs", "n")
    )
    for customer_id, interval, day, hs, n in qs.iterator(chunk_size=5000):
        out[customer_id][day][interval] = (hs, n)
    return out


def _pct(bps: int) -> str:
    """A coverage as the statement prints it: from the floored basis points stored, so the two never disagree."""
    return f"{bps // 100}.{bps % 100:02d}"


SLOTS_PER_DAY = 288
_SLOT_S = 300


def day_covered_slots(five_points: int, hourly_points: int, has_daily: bool) -> int:
    """A day's 5-minute slots the portal holds data for: all 288 when a series is complete for the day (288
    five-minute points, 24 hourly, or the daily point), else those its partial points cover."""
    if five_points >= SLOTS_PER_DAY or hourly_points >= 24 or has_daily:
        return SLOTS_PER_DAY
    return max(five_points, hourly_points * 12)


@dataclass
class Measured:
    """What the portal holds of a segment's hashrate: hashes over the covered 5-minute slots, and how many."""

    hashes: Fraction
    covered_slots: int
    total_slots: int
    used: dict[str, int]

    @property
    def coverage(self) -> Fraction:
        return Fraction(self.covered_slots, self.total_slots) if self.total_slots else Fraction(1)

    @property
    def coverage_bps(self) -> int:
        return int(self.coverage * money.BPS)  # floor: 94.99 % never reads as 95 %


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
                 customer_id: int, energy_entry: EnergyEntry | None = None):
        self.coarse = coarse
        self.energy_entry = energy_entry
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
            hosting += self._power_from_hashrate(seg)
        if v.minimum_monthly_fee:
            floor = money.exact(v.minimum_monthly_fee) * part
            if hosting < floor:
                self._add(seg, FeeKind.MINIMUM, f"Minimum charge {v.minimum_monthly_fee.normalize():f} {cur} a month "
                          f"× {span}, less fees of {money.fiat_str(hosting, 8)} {cur}", Fraction(1), "month",
                          v.minimum_monthly_fee, floor - hosting)
                hosting = floor
        if v.sla_uptime_bps:
            self._sla(seg, hosting)

    def _power_from_hashrate(self, seg: Segment) -> Fraction:
        """The energy line: measured where the portal holds data, the contract's fallback for the gap when coverage
        is below its threshold, so a month without data is never billed as zero power without anyone saying so."""
        v = seg.version
        m = self._hashes(seg)
        eff = money.exact(v.efficiency_j_per_th)
        kwh = m.hashes * eff * _KWH_PER_TH_J
        covered_h = Fraction(m.covered_slots * _SLOT_S, 3600)
        mean_th = m.hashes / (m.covered_slots * _SLOT_S) / 10**12 if m.covered_slots else Fraction(0)
        sources = ", ".join(f"{n} days from {what} points" for what, n in m.used.items() if n)
        text = (f"Energy from the pool's hashrate: mean {money.quantize(mean_th, 3)} TH/s × "
                f"{v.efficiency_j_per_th.normalize():f} J/TH × {money.fiat_str(covered_h, 2)} h = "
                f"{money.quantize(kwh, 3)} kWh ({sources or 'no hashrate'}); coverage {_pct(m.coverage_bps)}%")
        estimated = m.coverage_bps < v.coverage_threshold_bps
        if estimated:
            missing = m.total_slots - m.covered_slots
            missing_h = Fraction(missing * _SLOT_S, 3600)
            nameplate = money.exact(v.power_kw)
            if nameplate and (v.coverage_fallback == CoverageFallback.NAMEPLATE or not m.covered_slots):
                extra = nameplate * missing_h
                how = f"nameplate {v.power_kw.normalize():f} kW"
            elif m.covered_slots:
                extra = mean_th * 10**12 * missing_h * 3600 * eff * _KWH_PER_TH_J
                how = "the measured mean"
            else:
                extra, how = Fraction(0), None
            entry = self.energy_entry
            if how:
                text += (f", below {money.fiat_str(Fraction(v.coverage_threshold_bps, 100))}%: "
                         f"{money.fiat_str(missing_h, 2)} h estimated at {how} = {money.quantize(extra, 3)} kWh")
            elif entry is not None:
                # The staff member's explicit choice for a month without data: the month's energy they entered,
                # this segment's share of the month's days. Chosen, not estimated: closing needs no confirmation.
                days = (seg.end - seg.start).days
                extra = money.exact(entry.kwh) * Fraction(days, self.dim)
                share = "" if days == self.dim else f" × {days}/{self.dim} days"
                text += (f": no hashrate held and no nameplate power; energy entered by staff: "
                         f"{entry.kwh.normalize():f} kWh for the month{share} = {money.quantize(extra, 3)} kWh "
                         f"({entry.memo})")
                estimated = False
            else:
                text += ": no hashrate held and no nameplate power, so no power is billed for these days"
            kwh += extra
        amount = kwh * money.exact(v.price_per_kwh)
        self._add(seg, FeeKind.POWER, text, kwh, "kWh", v.price_per_kwh, amount)
        self.fees[-1].coverage_bps = m.coverage_bps
        self.fees[-1].estimated = estimated
        return amount

    def _hashes(self, seg: Segment) -> Measured:
        """Hashes over the segment's days, each day from the finest series complete for that day.

        Complete means 288 five-minute or 24 hourly points; else the day's daily point; else (no daily point) the
        partial series covering more slots, and only those slots count as covered. Why complete, not finest: the
        pool serves 3 days of 5-minute points, 7 of hourly and 30 of daily, so the oldest day of a finer window is
        partial by an amount that depends on the minute the portal first synced; preferring a partial finer series
        made two providers seeded minutes apart bill the same pool differently.
        """
        five: dict[date, list] = defaultdict(lambda: [Fraction(0), 0])
        for at, hs in self.slot_sums.items():
            cell = five[at.date()]
            cell[0] += money.exact(hs)
            cell[1] += 1
        used = {"5-minute": 0, "hourly": 0, "daily": 0, "partial": 0}
        total = Fraction(0)
        covered = 0
        day = seg.start
        while day < seg.end:
            coarse = self.coarse.get(day, {})
            five_sum, five_n = five.get(day, (Fraction(0), 0))
            hour_sum, hour_n = coarse.get(Interval.H1, (0, 0))
            if five_n >= SLOTS_PER_DAY:
                total += five_sum * _SLOT_S
                covered += SLOTS_PER_DAY
                used["5-minute"] += 1
            elif hour_n >= 24:
                total += money.exact(hour_sum) * 3600
                covered += SLOTS_PER_DAY
                used["hourly"] += 1
            elif Interval.D1 in coarse:
                total += money.exact(coarse[Interval.D1][0]) * 86400
                covered += SLOTS_PER_DAY
                used["daily"] += 1
            elif five_n or hour_n:
                if five_n >= hour_n * 12:
                    total += five_sum * _SLOT_S
                    covered += five_n
                else:
                    total += money.exact(hour_sum) * 3600
                    covered += hour_n * 12
                used["partial"] += 1
            day += timedelta(days=1)
        return Measured(total, covered, (seg.end - seg.start).days * SLOTS_PER_DAY, used)

    def _sla(self, seg: Segment, hosting: Fraction) -> None:
        v = seg.version
        start_at, end_at = day_start_at(seg.start), day_start_at(seg.end)
        maintenance = _maintenance_slots(self.windows, self.customer_id, start_at, end_at)
        total = int((end_at - start_at) / SLOT)
        expected = total - len(maintenance)
        floor = money.exact(v.sla_hashrate_hs)
        up = sum(1 for at, hs in self.slot_sums.items()
                 if start_at <= at < end_at and at not in maintenance and money.exact(hs) >= floor)
        held = sum(1 for at in self.slot_sums if start_at <= at < end_at)
        coverage_bps = held * money.BPS // total if total else money.BPS
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
            "currency": v.fee_currency, "slots_with_data": held, "coverage_pct": _pct(coverage_bps),
            # Slots without data count as down (the customer is credited for them); below the threshold the close
            # asks for confirmation, as for an estimated power line.
            "coverage_short": coverage_bps < v.coverage_threshold_bps,
        })
        if credit:
            self._add(seg, FeeKind.SLA_CREDIT, f"Uptime {money.fiat_str(uptime * 100)}% against "
                      f"{money.fiat_str(target * 100)}%: credit of {money.fiat_str((target - uptime) * 100)}% of "
                      f"hosting fees (cap {money.fiat_str(Fraction(v.sla_credit_cap_bps, 100))}%); coverage "
                      f"{_pct(coverage_bps)}%, slots without data counted as down",
                      target - uptime, "share", money.quantize(hosting, 8), -credit)
            self.fees[-1].coverage_bps = coverage_bps


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
