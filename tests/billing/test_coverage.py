"""Billing never prices missing data silently: coverage, the contract's fallback, the close's confirmation, and
months closed in order. Fixed clock (tests.billing.helpers.NOW); every figure worked out in the comments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from billing.models import BillingMonth, Statement, StatementFee
from mining.models import AccountHashrateSample, Interval
from tests.billing.factories import account_make, reward_make, samples_make
from tests.billing.helpers import NOW, close, contract, fees, statement, system_scope

pytestmark = pytest.mark.django_db

OCT, NOV = date(2025, 10, 1), date(2025, 11, 1)
# 100 TH/s × 20 J/TH = 2 kW; at 0.000001 BTC/kWh a full November (720 h, 1,440 kWh) is 144,000 sats.
POWER = {"power_mode": "hashrate", "efficiency_j_per_th": "20", "price_per_kwh": "0.000001"}


def _half_month(world, **terms):
    """Carol's November with 5-minute points for the first 15 of 30 days only: 50.00% coverage."""
    scope = system_scope(world.provider_a)
    acct = account_make(world.provider_a, world.customer_a1)
    contract(scope, world.customer_a1, NOV, **POWER, **terms)
    samples_make(acct, NOV, 15, "100000000000000")
    return scope


def test_half_coverage_is_estimated_from_the_measured_mean_by_default(world):
    scope = _half_month(world)
    data = statement(scope, world.customer_a1, NOV)
    # Measured: 2 kW × 360 h = 720 kWh; the 360 missing hours at the measured mean 100 TH/s: another 720 kWh.
    # (Before: 720 kWh, the gap billed as zero.) 1,440 kWh × 0.000001 = 0.00144 BTC.
    assert fees(data) == [("power", "2025-11-01", "2025-12-01", "0.00144000", "BTC", 144_000)]
    power = data.fees[0]
    assert power.coverage_bps == 5000
    assert ("mean 100.000 TH/s × 20 J/TH × 360.00 h = 720.000 kWh (15 days from 5-minute points); coverage 50.00%, "
            "below 95.00%: 360.00 h estimated at the measured mean = 720.000 kWh") in power.description
    assert data.short_coverage == [("power fee 2025-11-01–2025-12-01", "50.00")]


def test_half_coverage_billed_at_nameplate_power_when_the_contract_says_so(world):
    scope = _half_month(world, power_kw="3", coverage_fallback="nameplate")
    data = statement(scope, world.customer_a1, NOV)
    # Measured 720 kWh + 360 missing hours × 3 kW nameplate = 1,080 kWh → 1,800 kWh = 0.0018 BTC.
    assert fees(data) == [("power", "2025-11-01", "2025-12-01", "0.00180000", "BTC", 180_000)]
    assert "360.00 h estimated at nameplate 3 kW = 1080.000 kWh" in data.fees[0].description


def test_nameplate_fallback_needs_the_nameplate_power(world):
    scope = system_scope(world.provider_a)
    with pytest.raises(ValidationError) as exc:
        contract(scope, world.customer_a1, NOV, **POWER, coverage_fallback="nameplate")
    assert "power_kw" in exc.value.message_dict


def test_coverage_above_the_threshold_bills_what_was_measured(world):
    scope = system_scope(world.provider_a)
    acct = account_make(world.provider_a, world.customer_a1)
    contract(scope, world.customer_a1, NOV, **POWER)
    samples_make(acct, NOV, 29, "100000000000000")  # 29 of 30 days: 96.66%
    data = statement(scope, world.customer_a1, NOV)
    # 2 kW × 696 h = 1,392 kWh → 139,200 sats; nothing estimated, nothing to confirm.
    assert fees(data) == [("power", "2025-11-01", "2025-12-01", "0.00139200", "BTC", 139_200)]
    assert data.fees[0].coverage_bps == 9666 and "coverage 96.66%" in data.fees[0].description
    assert data.short_coverage == []


def test_a_month_without_data_uses_the_nameplate_power_or_says_no_power_is_billed(world):
    scope = system_scope(world.provider_a)
    contract(scope, world.customer_a1, NOV, **POWER, power_kw="3")
    contract(scope, world.customer_a2, NOV, **POWER)
    with_nameplate = statement(scope, world.customer_a1, NOV)
    # No hashrate at all: 720 h × 3 kW = 2,160 kWh → 216,000 sats, stated as an estimate.
    assert fees(with_nameplate) == [("power", "2025-11-01", "2025-12-01", "0.00216000", "BTC", 216_000)]
    assert "coverage 0.00%, below 95.00%: 720.00 h estimated at nameplate 3 kW" in with_nameplate.fees[0].description
    without = statement(scope, world.customer_a2, NOV)
    assert (without.fees[0].kind, without.fees[0].quantity, without.fees[0].amount_sats) == ("power", 0, 0)
    assert "no hashrate held and no nameplate power, so no power is billed" in without.fees[0].description
    assert without.short_coverage == [("power fee 2025-11-01–2025-12-01", "0.00")]


def test_closing_a_month_with_an_estimate_needs_confirmation_and_keeps_the_coverage(world):
    scope = _half_month(world)
    with pytest.raises(ValidationError) as exc:
        close(scope, NOV)
    message = exc.value.message_dict["accept_estimates"][0]
    assert "Carol Mining: power fee 2025-11-01–2025-12-01 at 50.00% coverage" in message
    assert not BillingMonth.objects.filter(closed_at__isnull=False).exists() and not Statement.objects.exists()

    from billing.services.closing import billing_month_close

    result = billing_month_close(scope=scope, period=NOV, now=NOW, accept_estimates=True)
    assert result.statements == 1
    fee = StatementFee.objects.get(statement__customer=world.customer_a1)
    assert (fee.coverage_bps, fee.amount_sats) == (5000, 144_000)


def test_close_month_command_refuses_estimates_naming_them_and_accepts_with_the_flag(world):
    _half_month(world)
    with pytest.raises(CommandError, match=r"Carol Mining: power fee 2025-11-01–2025-12-01 at 50\.00% coverage"):
        with time_machine.travel(NOW, tick=False):
            call_command("close_month", "2025-11", "--provider", "alpha")
    assert not Statement.objects.exists()
    with time_machine.travel(NOW, tick=False):
        call_command("close_month", "2025-11", "--provider", "alpha", "--accept-estimates")
    assert Statement.objects.filter(period=NOV).count() == 1


def test_an_sla_line_states_its_coverage_and_a_short_one_needs_confirmation(world):
    scope = system_scope(world.provider_a)
    acct = account_make(world.provider_a, world.customer_a1)
    contract(scope, world.customer_a1, NOV, machine_count=1, machine_fee_monthly="0.001", sla_uptime_bps=9000,
             sla_hashrate_hs="100000000000000", sla_credit_cap_bps=10000)
    samples_make(acct, NOV, 27, "120000000000000")  # 27 of 30 days held: 90.00%
    data = statement(scope, world.customer_a1, NOV)
    sla = data.sla[0]
    assert (sla["slots_with_data"], sla["coverage_pct"], sla["coverage_short"]) == (7776, "90.00", True)
    assert data.short_coverage == [("uptime SLA 2025-11-01–2025-12-01", "90.00")]
    from billing.exports.month import statement_html

    html = statement_html(data, provider_name="Alpha Hosting", standalone=False)
    sla_table = html[html.index('class="statement-sla"'):html.index("</table>", html.index('class="statement-sla"'))]
    # The target, the coverage (7776 of 8640 slots held) and the uptime (7776 up) are each 90.00%.
    assert "With data" in sla_table and sla_table.count("90.00%") == 3


def test_months_close_in_order(world):
    scope = system_scope(world.provider_a)
    acct = account_make(world.provider_a, world.customer_a1)
    contract(scope, world.customer_a1, OCT, revenue_share_bps=1000)
    reward_make(acct, date(2025, 10, 20), 5_000)
    reward_make(acct, date(2025, 11, 20), 5_000)
    with pytest.raises(ValidationError) as exc:
        close(scope, NOV)
    assert "close 2025-10 first" in exc.value.message_dict["period"][0]
    assert not Statement.objects.exists()
    close(scope, OCT)
    assert close(scope, NOV).statements == 1


def test_close_month_through_closes_every_open_month_oldest_first(world):
    """What `make run` relies on: it does not know where a provider's history starts (an imported account's
    contract may begin a month before its first reward)."""
    scope = system_scope(world.provider_a)
    acct = account_make(world.provider_a, world.customer_a1)
    contract(scope, world.customer_a1, date(2025, 9, 15), revenue_share_bps=1000)
    reward_make(acct, date(2025, 10, 20), 5_000)
    reward_make(acct, date(2025, 11, 20), 5_000)
    with time_machine.travel(NOW, tick=False):
        call_command("close_month", "--through", "2025-11", "--provider", "alpha")
        assert sorted(BillingMonth.objects.filter(closed_at__isnull=False).values_list("period", flat=True)) == [
            date(2025, 9, 1), OCT, NOV]
        call_command("close_month", "--through", "2025-11", "--provider", "alpha")  # nothing left: no error
        with pytest.raises(CommandError, match="either a month"):
            call_command("close_month", "2025-11", "--through", "2025-11")
    assert Statement.objects.filter(period=NOV).count() == 1


def _pool_day_points(provider, customer, account, backfill_from: datetime) -> None:
    """The same pool as seen by a portal first synced at `backfill_from`: the 1 h backfill starts there, so the
    first day's hourly set is partial; the daily points (30-day window) are complete for every day."""
    rows = []
    for d in range(30):
        day = datetime(2025, 11, 1, tzinfo=UTC) + timedelta(days=d)
        rows.append(AccountHashrateSample(provider=provider, customer=customer, account=account,
                                          interval=Interval.D1, at=day, hashrate_hs=100 * 10**12))
        for h in range(24):
            at = day + timedelta(hours=h)
            if at >= backfill_from:
                rows.append(AccountHashrateSample(provider=provider, customer=customer, account=account,
                                                  interval=Interval.H1, at=at, hashrate_hs=(90 + h) * 10**12))
    AccountHashrateSample.objects.bulk_create(rows)


def test_two_providers_seeded_at_different_minutes_bill_the_same(world):
    scope_a, scope_b = system_scope(world.provider_a), system_scope(world.provider_b)
    for scope, provider, customer, first_sync in (
            (scope_a, world.provider_a, world.customer_a1, datetime(2025, 11, 23, 4, 10, tzinfo=UTC)),
            (scope_b, world.provider_b, world.customer_b1, datetime(2025, 11, 23, 5, 40, tzinfo=UTC))):
        contract(scope, customer, NOV, **POWER)
        _pool_day_points(provider, customer, account_make(provider, customer), first_sync)
    a = statement(scope_a, world.customer_a1, NOV)
    b = statement(scope_b, world.customer_b1, NOV)
    # 23 Nov has 19 (a) and 18 (b) hourly points: both bill it from its complete daily point. 23 days daily at
    # 100 TH/s, 7 days hourly at a mean of 101.5 TH/s: 2 kW × 552 h + 2.03 kW × 168 h = 1,445.04 kWh.
    assert fees(a) == fees(b) == [("power", "2025-11-01", "2025-12-01", "0.00144504", "BTC", 144_504)]
    assert "(7 days from hourly points, 23 days from daily points); coverage 100.00%" in a.fees[0].description
