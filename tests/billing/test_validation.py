"""Bad input gets a clear, field-by-field error and writes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.http import Http404

from billing.models import BillingMonth, BtcPrice, ContractVersion, Statement
from billing.services.contracts import ContractTerms, adjustment_create, btc_price_record, contract_version_update
from tenants.models import AuditEntry
from tests.billing.factories import account_make, reward_make
from tests.billing.helpers import NOW, close, contract, system_scope

pytestmark = pytest.mark.django_db
NOV = date(2025, 11, 1)


def _errors(excinfo) -> dict:
    return excinfo.value.message_dict


def test_a_share_over_100_percent_and_a_negative_fee_are_refused_field_by_field(world):
    scope = system_scope(world.provider_a)
    with pytest.raises(ValidationError) as excinfo:
        contract(scope, world.customer_a1, NOV, revenue_share_bps=10_001, machine_fee_monthly="-1",
                 fee_currency="dollars", power_mode="hashrate", price_per_kwh="0.1")
    errors = _errors(excinfo)
    assert "10000 is 100%" in errors["revenue_share_bps"][0]
    assert errors["machine_fee_monthly"] == ["Must not be negative."]
    assert "three-letter" in errors["fee_currency"][0]
    assert "efficiency" in errors["efficiency_j_per_th"][0]
    assert not ContractVersion.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="contract").exists()


def test_overlapping_versions_are_refused(world):
    scope = system_scope(world.provider_a)
    contract(scope, world.customer_a1, date(2025, 10, 1), revenue_share_bps=1000)
    contract(scope, world.customer_a1, date(2025, 11, 10), revenue_share_bps=2000)
    for day in (date(2025, 11, 10), date(2025, 10, 20), date(2025, 9, 1)):
        with pytest.raises(ValidationError) as excinfo:
            contract(scope, world.customer_a1, day, revenue_share_bps=3000)
        assert "never overlap" in _errors(excinfo)["effective_from"][0]
    assert list(ContractVersion.objects.order_by("effective_from").values_list("effective_from", "effective_until")) \
        == [(date(2025, 10, 1), date(2025, 11, 10)), (date(2025, 11, 10), None)]


def test_a_month_not_yet_over_is_refused_with_its_dates(world):
    scope = system_scope(world.provider_a)
    with pytest.raises(ValidationError) as excinfo:
        close(scope, date(2026, 3, 1))
    assert _errors(excinfo)["period"] == [
        "2026-03 has not ended yet: its last settlement day is 2026-03-31 (UTC). It can be closed from 2026-04-01 on."]
    assert not BillingMonth.objects.exists()


def test_a_fiat_fee_without_a_recorded_rate_refuses_the_whole_close(world):
    scope = system_scope(world.provider_a)
    acct = account_make(world.provider_a, world.customer_a2)
    reward_make(acct, date(2025, 11, 3), 5000)
    contract(scope, world.customer_a1, NOV, fee_currency="EUR", machine_count=1, machine_fee_monthly="100")
    with pytest.raises(ValidationError) as excinfo:
        close(scope, NOV)
    assert "No BTC price in EUR is recorded for 2025-11" in _errors(excinfo)["btc_price"][0]
    assert "Carol Mining" in _errors(excinfo)["btc_price"][0]
    assert not Statement.objects.exists() and not BillingMonth.objects.filter(closed_at__isnull=False).exists()


def test_bad_prices_and_adjustments(world):
    scope = system_scope(world.provider_a)
    with pytest.raises(ValidationError) as excinfo:
        btc_price_record(scope=scope, currency="BTC", period=date(2025, 11, 2), price="-5", as_of=NOV, source="",
                         now=NOW)
    assert set(_errors(excinfo)) == {"currency", "price", "period", "source"}
    with pytest.raises(ValidationError) as excinfo:
        adjustment_create(scope=scope, customer_id=world.customer_a1.pk, period=NOV, amount_sats=0, memo=" ",
                          now=NOW)
    assert set(_errors(excinfo)) == {"amount_sats", "memo"}
    assert not BtcPrice.objects.exists()


def test_unknown_or_foreign_customers_are_404_and_roles_are_checked(world):
    alice = world.scope(world.alice, world.provider_a)
    with pytest.raises(Http404):
        contract(alice, world.customer_b1, NOV, revenue_share_bps=100)  # another provider's customer
    with pytest.raises(Http404):
        adjustment_create(scope=alice, customer_id=987654, period=NOV, amount_sats=5, memo="x", now=NOW)
    with pytest.raises(PermissionDenied):
        contract(world.scope(world.dave, world.provider_a), world.customer_a1, NOV, revenue_share_bps=100)
    with pytest.raises(PermissionDenied):
        close(world.scope(world.carol, world.provider_a, world.customer_a1), NOV)


def test_commands_name_the_bad_argument(world, tmp_path):
    with pytest.raises(CommandError, match="no provider with the slug “nope”"):
        call_command("close_month", "2025-11", "--provider", "nope")
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("close_month", "2025-13")
    with pytest.raises(CommandError, match="has not ended yet"):
        call_command("close_month", "2999-01", "--provider", "alpha")
    with pytest.raises(CommandError, match="not closed yet"):
        call_command("export_billing", "2025-11", "--provider", "alpha", "--format", "csv",
                     "--output", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="no provider"):
        call_command("export_billing", "2025-11", "--provider", "nope", "--format", "csv",
                     "--output", str(tmp_path / "x.csv"))
    assert not list(tmp_path.iterdir())


def test_closed_months_do_not_change(world):
    scope = system_scope(world.provider_a)
    version = contract(scope, world.customer_a1, date(2025, 10, 1), revenue_share_bps=1000)
    acct = account_make(world.provider_a, world.customer_a1)
    reward_make(acct, date(2025, 10, 5), 1000)
    close(scope, date(2025, 10, 1))
    with pytest.raises(ValidationError, match="used by a closed statement"):
        contract_version_update(scope=scope, version_id=version.pk, terms=ContractTerms(revenue_share_bps=9000))
    with pytest.raises(ValidationError, match="falls in a closed month"):
        contract(scope, world.customer_a1, date(2025, 10, 20), revenue_share_bps=2000)
    with pytest.raises(ValidationError, match="is closed"):
        adjustment_create(scope=scope, customer_id=world.customer_a1.pk, period=date(2025, 10, 1), amount_sats=5,
                          memo="late", now=NOW)
    version.refresh_from_db()
    assert version.revenue_share_bps == 1000
    # A new version from the next open month is fine.
    contract(scope, world.customer_a1, date(2025, 11, 1), revenue_share_bps=2000)


def test_every_billing_write_is_audited_with_its_actor(world):
    from datetime import UTC, datetime

    from billing.services.contracts import maintenance_window_create

    alice = world.scope(world.alice, world.provider_a)
    already = AuditEntry.objects.count()  # the world's own setup (providers, customers, memberships) is audited too
    version = contract(alice, world.customer_a1, NOV, revenue_share_bps=1000)
    contract(alice, world.customer_a1, date(2025, 11, 15), revenue_share_bps=2000)
    contract_version_update(scope=alice, version_id=version.pk, terms=ContractTerms(revenue_share_bps=1500))
    btc_price_record(scope=alice, currency="usd", period=NOV, price="91000.5", as_of=NOV, source="WhiteBIT", now=NOW)
    maintenance_window_create(scope=alice, starts_at=datetime(2025, 11, 3, tzinfo=UTC),
                              ends_at=datetime(2025, 11, 3, 2, tzinfo=UTC), reason="PDU swap", now=NOW)
    adjustment_create(scope=alice, customer_id=world.customer_a1.pk, period=NOV, amount_sats=-500, memo="Fan",
                      now=NOW)
    entries = list(AuditEntry.objects.order_by("id").values_list("action", "actor_label"))[already:]
    assert entries == [
        ("contract.create", "alice@alpha.example"), ("contract.version_end", "alice@alpha.example"),
        ("contract.version_create", "alice@alpha.example"), ("contract.version_update", "alice@alpha.example"),
        ("btc_price.record", "alice@alpha.example"), ("maintenance_window.create", "alice@alpha.example"),
        ("adjustment.create", "alice@alpha.example"),
    ]
    update = AuditEntry.objects.get(action="contract.version_update")
    assert update.changes["revenue_share_bps"] == [1000, 1500]
    assert AuditEntry.objects.get(action="btc_price.record").changes["price"] == [None, "91000.5"]
