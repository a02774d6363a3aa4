"""A power line with no hashrate at all and no nameplate power needs the staff member's explicit choice (issue 16):
enter the month's energy (billed as entered, said on the statement, no estimate to confirm) or bill no power
(said on the statement, and the close asks for confirmation). Fixed clock (tests.billing.helpers.NOW)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from billing.models import EnergyEntry, StatementFee
from billing.services.contracts import energy_entry_set
from tenants.models import AuditEntry
from tests.billing.helpers import NOW, close, contract, fees, statement, system_scope
from tests.fixtures.access import login_verified

pytestmark = pytest.mark.django_db

NOV = date(2025, 11, 1)
POWER = {"power_mode": "hashrate", "efficiency_j_per_th": "20", "price_per_kwh": "0.000001"}


def test_entered_energy_prices_a_month_without_data_and_needs_no_confirmation(world):
    scope = system_scope(world.provider_a)
    contract(scope, world.customer_a1, NOV, **POWER)
    energy_entry_set(scope=scope, customer_id=world.customer_a1.pk, period=NOV, kwh="1500.5",
                     memo="PDU meter, rack 4", now=NOW)
    data = statement(scope, world.customer_a1, NOV)
    # 1,500.5 kWh × 0.000001 BTC/kWh = 0.0015005 BTC = 150,050 sats (before: 0 kWh, nothing billed).
    assert fees(data) == [("power", "2025-11-01", "2025-12-01", "0.00150050", "BTC", 150_050)]
    assert ("no hashrate held and no nameplate power; energy entered by staff: 1500.5 kWh for the month = "
            "1500.500 kWh (PDU meter, rack 4)") in data.fees[0].description
    assert data.short_coverage == []  # a choice, not an estimate
    assert close(scope, NOV).statements == 1  # no --accept-estimates needed
    assert StatementFee.objects.get().amount_sats == 150_050


def test_entered_energy_is_shared_by_days_when_the_contract_starts_mid_month(world):
    scope = system_scope(world.provider_a)
    contract(scope, world.customer_a1, date(2025, 11, 16), **POWER)
    energy_entry_set(scope=scope, customer_id=world.customer_a1.pk, period=NOV, kwh="3000", memo="utility bill",
                     now=NOW)
    data = statement(scope, world.customer_a1, NOV)
    # 3,000 kWh × 15/30 days = 1,500 kWh → 150,000 sats.
    assert fees(data) == [("power", "2025-11-16", "2025-12-01", "0.00150000", "BTC", 150_000)]
    assert "3000 kWh for the month × 15/30 days = 1500.000 kWh" in data.fees[0].description


def test_an_entry_is_not_used_where_the_portal_holds_data_or_the_contract_names_nameplate_power(world):
    scope = system_scope(world.provider_a)
    contract(scope, world.customer_a1, NOV, **POWER, power_kw="3")
    energy_entry_set(scope=scope, customer_id=world.customer_a1.pk, period=NOV, kwh="1", memo="x", now=NOW)
    data = statement(scope, world.customer_a1, NOV)
    # The nameplate rule applies: 720 h × 3 kW = 2,160 kWh.
    assert fees(data) == [("power", "2025-11-01", "2025-12-01", "0.00216000", "BTC", 216_000)]


def test_bad_entries_are_refused_field_by_field_and_change_nothing(world):
    scope = system_scope(world.provider_a)
    for kwh, memo, field in (("-1", "m", "kwh"), ("abc", "m", "kwh"), ("1.2345", "m", "kwh"), ("NaN", "m", "kwh"),
                             ("10", " ", "memo")):
        with pytest.raises(ValidationError) as exc:
            energy_entry_set(scope=scope, customer_id=world.customer_a1.pk, period=NOV, kwh=kwh, memo=memo, now=NOW)
        assert field in exc.value.message_dict
    contract(scope, world.customer_a1, NOV, revenue_share_bps=1000)
    close(scope, NOV, now=NOW)
    with pytest.raises(ValidationError) as exc:
        energy_entry_set(scope=scope, customer_id=world.customer_a1.pk, period=NOV, kwh="5", memo="late", now=NOW)
    assert "is closed" in exc.value.message_dict["period"][0]
    assert not EnergyEntry.objects.exists()


def test_an_entry_replaces_the_months_earlier_one_and_is_audited(world):
    scope = system_scope(world.provider_a)
    energy_entry_set(scope=scope, customer_id=world.customer_a1.pk, period=NOV, kwh="10", memo="first", now=NOW)
    energy_entry_set(scope=scope, customer_id=world.customer_a1.pk, period=NOV, kwh="12", memo="second", now=NOW)
    entry = EnergyEntry.objects.get()
    assert (entry.kwh, entry.memo) == (12, "second")
    entries = AuditEntry.objects.filter(action="energy_entry.set").order_by("pk")
    assert entries.count() == 2 and entries.last().changes["memo"] == ["first", "second"]


def test_staff_enter_the_energy_on_the_customers_billing_page_once_under_a_double_submit(client, world):
    import time_machine

    login_verified(client, world.alice)
    url = "/p/alpha/billing/contracts/carol-mining/"
    with time_machine.travel(NOW, tick=False):
        page = client.get(url).content.decode()
        assert 'id="energy"' in page and 'name="kwh"' in page
        post = {"period": "2026-03", "kwh": "820.25", "memo": "utility bill", "idempotency_key": "e1"}
        first = client.post(f"{url}energy/", post)
        second = client.post(f"{url}energy/", post)
        assert first.status_code == second.status_code == 302
        assert EnergyEntry.objects.count() == 1
        listed = client.get(url).content.decode()
        assert "820.250 kWh" in listed and "utility bill" in listed
        bad = client.post(f"{url}energy/", {**post, "kwh": "-3", "idempotency_key": "e2"})
        assert bad.status_code == 200 and "zero or more" in bad.content.decode()
        assert EnergyEntry.objects.get().kwh == 820.25
