"""Golden statements under a fixed clock: every figure worked out by hand in the comments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from billing.models import Statement
from mining.models import PayoutDestination, RewardStatus
from tests.billing.factories import account_make, reward_make, samples_make
from tests.billing.helpers import close, contract, fees, shares, statement, system_scope

pytestmark = pytest.mark.django_db

OCT, NOV, FEB = date(2025, 10, 1), date(2025, 11, 1), date(2026, 2, 1)


def test_full_month_pure_revenue_share_with_a_zero_reward_day(world):
    scope = system_scope(world.provider_a)
    acct = account_make(world.provider_a, world.customer_a1)
    contract(scope, world.customer_a1, date(2025, 9, 1), revenue_share_bps=2500)
    reward_make(acct, date(2025, 10, 1), 1000)
    reward_make(acct, date(2025, 10, 2), 0, fee_sats=0)  # a zero-reward day: a line, no share
    reward_make(acct, date(2025, 10, 3), 2001)
    reward_make(acct, date(2025, 10, 31), 3003)
    reward_make(acct, date(2025, 11, 1), 5000)  # the next month: not on this statement
    reward_make(acct, date(2025, 10, 4), 7000, status=RewardStatus.CANCELED)  # canceled: left out

    data = statement(scope, world.customer_a1, OCT)
    # 25% of 1000, 0, 2001, 3003 = 250, 0, 500.25, 750.75 → total 1501; the 0.75 line takes the missing satoshi.
    assert shares(data) == [
        ("2025-10-01", 1000, 250, 750, "provider"),
        ("2025-10-02", 0, 0, 0, "provider"),
        ("2025-10-03", 2001, 500, 1501, "provider"),
        ("2025-10-31", 3003, 751, 2252, "provider"),
    ]
    assert (data.net_sats, data.provider_share_sats, data.customer_share_sats) == (6004, 1501, 4503)
    assert data.gross_sats == data.net_sats + data.pool_fee_sats
    assert data.fees == [] and data.hosting_fee_sats == 0
    # All of it sits on the provider's WhiteBIT balance: the provider pays the customer its share.
    assert (data.held_by_provider_sats, data.held_by_customer_sats, data.customer_net_sats) == (6004, 0, 4503)


def test_partial_first_month_prorates_fees_and_bills_earlier_days_at_no_share(world):
    scope = system_scope(world.provider_a)
    acct = account_make(world.provider_a, world.customer_a1)
    contract(scope, world.customer_a1, date(2025, 10, 16), revenue_share_bps=1000, machine_count=3,
             machine_fee_monthly="0.00031")
    reward_make(acct, date(2025, 10, 10), 4000)  # before the contract: the customer keeps all of it
    reward_make(acct, date(2025, 10, 20), 5000)
    data = statement(scope, world.customer_a1, OCT)
    assert shares(data) == [("2025-10-10", 4000, 0, 4000, "provider"), ("2025-10-20", 5000, 500, 4500, "provider")]
    # 3 machines × 0.00031 BTC × 16/31 days = 0.00048 BTC = 48,000 sats.
    assert fees(data) == [("machines", "2025-10-16", "2025-11-01", "0.00048000", "BTC", 48_000)]
    assert data.customer_net_sats == 8500 - 48_000


def test_contract_change_mid_month_splits_the_month_at_that_day(world):
    scope = system_scope(world.provider_a)
    acct = account_make(world.provider_a, world.customer_a1)
    contract(scope, world.customer_a1, date(2025, 9, 1), revenue_share_bps=2000, machine_count=1,
             machine_fee_monthly="0.0003")
    contract(scope, world.customer_a1, date(2025, 9, 16), revenue_share_bps=3000, machine_count=2,
             machine_fee_monthly="0.0003")
    reward_make(acct, date(2025, 9, 10), 10_000)
    reward_make(acct, date(2025, 9, 20), 10_000)
    data = statement(scope, world.customer_a1, date(2025, 9, 1))
    assert shares(data) == [("2025-09-10", 10_000, 2000, 8000, "provider"),
                            ("2025-09-20", 10_000, 3000, 7000, "provider")]
    # 1 × 0.0003 × 15/30 = 15,000 sats, then 2 × 0.0003 × 15/30 = 30,000 sats.
    assert fees(data) == [("machines", "2025-09-01", "2025-09-16", "0.00015000", "BTC", 15_000),
                          ("machines", "2025-09-16", "2025-10-01", "0.00030000", "BTC", 30_000)]
    assert data.customer_net_sats == 15_000 - 45_000


def test_february_contracted_power_and_minimum_charge(world):
    scope = system_scope(world.provider_a)
    acct = account_make(world.provider_a, world.customer_a1)
    contract(scope, world.customer_a1, date(2026, 2, 15), revenue_share_bps=5000, machine_count=1,
             machine_fee_monthly="0.00028", power_mode="contracted", power_kw="1.5", price_per_kwh="0.0000001",
             minimum_monthly_fee="0.001")
    reward_make(acct, date(2026, 2, 28), 3)
    data = statement(scope, world.customer_a1, FEB)
    # 50% of 3 = 1.5 → half to even: 2.
    assert shares(data) == [("2026-02-28", 3, 2, 1, "provider")]
    # Machines: 0.00028 × 14/28 = 14,000 sats. Power: 1.5 kW × 336 h = 504 kWh × 0.0000001 = 5,040 sats.
    # Minimum: 0.001 × 14/28 = 50,000 sats, less 19,040 of fees = 30,960 sats more.
    assert fees(data) == [("machines", "2026-02-15", "2026-03-01", "0.00014000", "BTC", 14_000),
                          ("power", "2026-02-15", "2026-03-01", "0.00005040", "BTC", 5_040),
                          ("minimum", "2026-02-15", "2026-03-01", "0.00030960", "BTC", 30_960)]
    assert data.hosting_fee_sats == 50_000
    assert data.customer_net_sats == 1 - 50_000


def test_sla_breach_with_a_maintenance_window(world):
    from billing.services.contracts import maintenance_window_create
    from tests.billing.helpers import NOW

    scope = system_scope(world.provider_a)
    acct = account_make(world.provider_a, world.customer_a1)
    contract(scope, world.customer_a1, NOV, machine_count=1, machine_fee_monthly="0.001", sla_uptime_bps=9500,
             sla_hashrate_hs="100000000000000", sla_credit_cap_bps=5000)
    outage_start = datetime(2025, 11, 10, tzinfo=UTC)
    down = {outage_start + timedelta(minutes=5 * i) for i in range(3 * 288)}  # three days at zero
    samples_make(acct, NOV, 30, "120000000000000", down=down)
    maintenance_window_create(scope=scope, starts_at=outage_start, ends_at=outage_start + timedelta(days=1),
                              reason="Transformer swap", now=NOW)
    data = statement(scope, world.customer_a1, NOV)
    sla = data.sla[0]
    # 8,640 slots, 288 in maintenance → 8,352 counted; 7,776 up → 27/29 = 93.10% against 95%.
    assert (sla["slots"], sla["maintenance_slots"], sla["up_slots"], sla["uptime_pct"]) == (8640, 288, 7776, "93.10")
    # Credit: (0.95 − 27/29) = 11/580 of 100,000 sats = 1,896.55… → 1,897 sats (cap 50% not reached).
    assert fees(data) == [("machines", "2025-11-01", "2025-12-01", "0.00100000", "BTC", 100_000),
                          ("sla_credit", "2025-11-01", "2025-12-01", "-0.00001897", "BTC", -1_897)]
    assert (data.hosting_fee_sats, data.sla_credit_sats, data.customer_net_sats) == (100_000, 1_897, -98_103)


def test_fiat_fees_at_a_recorded_rate_with_power_from_hashrate(world):
    from billing.services.contracts import btc_price_record
    from tests.billing.helpers import NOW

    scope = system_scope(world.provider_a)
    acct = account_make(world.provider_a, world.customer_a1)
    contract(scope, world.customer_a1, NOV, fee_currency="USD", machine_count=2, machine_fee_monthly="150",
             power_mode="hashrate", efficiency_j_per_th="20", price_per_kwh="0.05")
    samples_make(acct, NOV, 30, "100000000000000")  # 100 TH/s all month
    btc_price_record(scope=scope, currency="USD", period=NOV, price="60000", as_of=date(2025, 11, 30),
                     source="WhiteBIT BTC/USD close", now=NOW)
    data = statement(scope, world.customer_a1, NOV)
    # 100 TH/s × 20 J/TH = 2 kW × 720 h = 1,440 kWh × 0.05 USD = 72 USD; machines 2 × 150 = 300 USD.
    # 372 USD at 60,000 USD/BTC = 0.0062 BTC: 500,000 + 120,000 sats.
    assert fees(data) == [("machines", "2025-11-01", "2025-12-01", "300.00000000", "USD", 500_000),
                          ("power", "2025-11-01", "2025-12-01", "72.00000000", "USD", 120_000)]
    assert "1440.000 kWh" in data.fees[1].description
    assert data.rates == [{"currency": "USD", "price": "60000", "as_of": "2025-11-30",
                           "source": "WhiteBIT BTC/USD close"}]
    assert data.customer_net_sats == -620_000


def test_an_account_moved_between_customers_bills_each_day_to_its_holder(world):
    scope = system_scope(world.provider_a)
    acct = account_make(world.provider_a, world.customer_a2)  # held by Eve from 16 November
    contract(scope, world.customer_a1, OCT, revenue_share_bps=1000)
    contract(scope, world.customer_a2, OCT, revenue_share_bps=2000)
    for day in range(1, 31):
        holder = world.customer_a1 if day < 16 else world.customer_a2
        reward_make(acct, date(2025, 11, day), 100, customer=holder)
    carol, eve = statement(scope, world.customer_a1, NOV), statement(scope, world.customer_a2, NOV)
    assert [ln.date.day for ln in carol.billed_lines] == list(range(1, 16))
    assert [ln.date.day for ln in eve.billed_lines] == list(range(16, 31))
    assert (carol.net_sats, carol.provider_share_sats) == (1500, 150)
    assert (eve.net_sats, eve.provider_share_sats) == (1500, 300)


def test_rewards_split_between_the_providers_balance_and_the_customers_address(world):
    scope = system_scope(world.provider_a)
    acct = account_make(world.provider_a, world.customer_a1)
    contract(scope, world.customer_a1, OCT, revenue_share_bps=2500, customer_addresses=["bc1qcustomer"])
    ext = PayoutDestination.EXTERNAL_ADDRESS
    reward_make(acct, date(2025, 11, 1), 10_000)
    reward_make(acct, date(2025, 11, 2), 20_000, payout_destination=ext, payout_address="bc1qcustomer")
    reward_make(acct, date(2025, 11, 3), 30_000, payout_destination=ext, payout_address="bc1qprovidercold")
    reward_make(acct, date(2025, 11, 4), 40_000, status=RewardStatus.PENDING)
    data = statement(scope, world.customer_a1, NOV)
    assert shares(data) == [("2025-11-01", 10_000, 2_500, 7_500, "provider"),
                            ("2025-11-02", 20_000, 5_000, 15_000, "customer"),
                            ("2025-11-03", 30_000, 7_500, 22_500, "provider")]
    assert (data.held_by_provider_sats, data.held_by_customer_sats) == (40_000, 20_000)
    # The provider owes 7,500 + 22,500; the customer owes 5,000 of what it received: net 25,000 to the customer.
    assert data.customer_net_sats == 25_000
    assert [(ln.date.day, ln.net_sats) for ln in data.pending_lines] == [(4, 40_000)] and data.pending_sats == 40_000


def test_a_late_reward_after_close_is_an_adjustment_in_the_next_open_month(world):
    from billing.exports.month import month_verify
    from mining.models import Reward

    scope = system_scope(world.provider_a)
    acct = account_make(world.provider_a, world.customer_a1)
    contract(scope, world.customer_a1, OCT, revenue_share_bps=2500)
    reward_make(acct, date(2025, 10, 30), 8_000)
    late = reward_make(acct, date(2025, 10, 31), 4_001, status=RewardStatus.PENDING)
    reward_make(acct, date(2025, 11, 2), 2_000)
    close(scope, OCT)
    october = Statement.objects.get(customer=world.customer_a1, period=OCT)
    assert (october.net_sats, october.pending_sats) == (8_000, 4_001)
    Reward.objects.filter(pk=late.pk).update(status=RewardStatus.SUCCESSFUL)  # the pool settles it in November

    november = statement(scope, world.customer_a1, NOV)
    assert [(ln.kind, ln.date.isoformat(), ln.net_sats, ln.provider_share_sats) for ln in november.billed_lines] == [
        ("reward", "2025-11-02", 2_000, 500), ("late_reward", "2025-10-31", 4_001, 1_000)]
    # 500 + 1000.25 → 1,500 total: the late line keeps its floor.
    assert november.provider_share_sats == 1_500
    # The customer's own view of its running month shows the same late line.
    from billing.selectors.statements import statement_get

    carol = world.scope(world.carol, world.provider_a, world.customer_a1)
    seen = statement_get(scope=carol, customer_id=world.customer_a1.pk, period=NOV, today=date(2025, 12, 1))
    assert [ln.kind for ln in seen.billed_lines] == ["reward", "late_reward"]
    october.refresh_from_db()
    assert october.net_sats == 8_000 and month_verify(scope=scope, period=OCT) == 1
    close(scope, NOV)
    assert statement(scope, world.customer_a1, date(2025, 12, 1)) is None  # billed once, never again


def test_month_to_date_covers_the_completed_days_only(world):
    from billing.selectors.statements import statement_get

    scope = system_scope(world.provider_a)
    acct = account_make(world.provider_a, world.customer_a1)
    contract(scope, world.customer_a1, date(2026, 3, 1), revenue_share_bps=2500, machine_count=1,
             machine_fee_monthly="0.00031")
    reward_make(acct, date(2026, 3, 1), 1000)
    reward_make(acct, date(2026, 3, 4), 1000)
    reward_make(acct, date(2026, 3, 5), 1000, status=RewardStatus.PENDING)
    data = statement_get(scope=scope, customer_id=world.customer_a1.pk, period=date(2026, 3, 1),
                         today=date(2026, 3, 5))
    assert not data.is_closed and data.period_end == date(2026, 3, 5)
    assert [ln.date.day for ln in data.billed_lines] == [1, 4]
    # Four completed days of 31: 0.00031 × 4/31 = 4,000 sats.
    assert fees(data) == [("machines", "2026-03-01", "2026-03-05", "0.00004000", "BTC", 4_000)]


def test_energy_from_hashrate_uses_each_days_finest_series(world):
    from mining.models import AccountHashrateSample, Interval

    scope = system_scope(world.provider_a)
    acct = account_make(world.provider_a, world.customer_a1)
    # Threshold 0: the days' series alone (the fallback for the missing 26 days is tested in test_coverage).
    contract(scope, world.customer_a1, NOV, power_mode="hashrate", efficiency_j_per_th="10",
             price_per_kwh="0.000001", coverage_threshold_bps=0)
    samples_make(acct, NOV, 1, "100000000000000")  # 1 Nov: 5-minute points, 100 TH/s

    def point(interval, at, hs):
        AccountHashrateSample.objects.create(provider=world.provider_a, customer=world.customer_a1, account=acct,
                                             interval=interval, at=at, hashrate_hs=hs)

    day = datetime(2025, 11, 1, tzinfo=UTC)
    for h in range(24):
        point(Interval.H1, day + timedelta(hours=h), 900 * 10**12)  # ignored: 1 Nov has 5-minute points
        point(Interval.H1, day + timedelta(days=1, hours=h), 200 * 10**12)  # 2 Nov: hourly only
    point(Interval.D1, day + timedelta(days=2), 300 * 10**12)  # 3 Nov: daily only
    for h in range(4, 24):  # 4 Nov: 20 of 24 hourly points (a backfill's partial first day) and the daily point
        point(Interval.H1, day + timedelta(days=3, hours=h), 900 * 10**12)
    point(Interval.D1, day + timedelta(days=3), 400 * 10**12)
    data = statement(scope, world.customer_a1, NOV)
    # Hashes: 8.64e18 + 1.728e19 + 2.592e19 + 3.456e19 (4 Nov from its complete daily point, not the partial
    # hourly set) = 8.64e19 = 8.64e7 TH × 10 J = 8.64e8 J = 240 kWh.
    assert fees(data) == [("power", "2025-11-01", "2025-12-01", "0.00024000", "BTC", 24_000)]
    assert "240.000 kWh (1 days from 5-minute points, 1 days from hourly points, 2 days from daily points); " \
        "coverage 13.33%" in data.fees[0].description
