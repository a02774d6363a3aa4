"""The demo's contracts (seed_demo), the monthly close task and its beat entry."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from billing.models import BillingMonth, BtcPrice, ContractVersion, Statement
from billing.periods import month_start, previous_month
from billing.selectors.statements import statement_get
from billing.tasks import billing_month_close_task
from mining.services.sync import mining_account_sync
from tenants.access import scope_for_system
from tenants.models import Customer, Provider
from tests.billing.factories import account_make, reward_make
from tests.billing.helpers import contract, system_scope
from tests.fixtures.sandbox import SANDBOX_DATA_NOW


def _seed(sandbox_pool) -> None:
    call_command("seed_demo", "--upstream", sandbox_pool.base_url, "--api-key", sandbox_pool.api_key,
                 "--api-secret", sandbox_pool.api_secret, "--slug", "billing-demo", stdout=StringIO())


@pytest.mark.django_db
def test_seed_demo_gives_each_customer_one_pricing_model_and_is_idempotent(sandbox_pool, fast_upstream_retries,
                                                                          settings):
    # seed_demo and the sync read the wall clock: run them one hour after the sandbox's fixed data clock, so the
    # month, its first day and its price never depend on when the suite runs. Nonces only go forward, so this
    # earlier clock gets nonce keys of its own.
    settings.WHITEBIT_REDIS_PREFIX = f"demo-billing-{uuid.uuid4().hex[:8]}:"
    with time_machine.travel(SANDBOX_DATA_NOW + timedelta(hours=1), tick=True):
        _seed_sync_and_check(sandbox_pool)


def _seed_sync_and_check(sandbox_pool) -> None:
    _seed(sandbox_pool)
    provider = Provider.objects.get(slug="billing-demo")
    versions = {c.slug: list(ContractVersion.objects.filter(customer=c).order_by("effective_from"))
                for c in Customer.objects.filter(provider=provider)}
    (northwind,) = versions["northwind"]
    assert (northwind.revenue_share_bps, northwind.machine_count, northwind.fee_currency) == (2500, 0, "BTC")
    (bluefin,) = versions["bluefin"]
    assert (bluefin.fee_currency, bluefin.machine_count, bluefin.power_mode) == ("USD", 8, "hashrate")
    cedar = versions["cedar-ridge"]
    assert [(v.revenue_share_bps, v.minimum_monthly_fee > 0, v.sla_uptime_bps) for v in cedar] == [
        (1500, True, 0), (1500, True, 9500)]
    assert BtcPrice.objects.filter(provider=provider, period=month_start(timezone.now().date())).exists()
    counts = (ContractVersion.objects.count(), BtcPrice.objects.count())
    _seed(sandbox_pool)
    assert (ContractVersion.objects.count(), BtcPrice.objects.count()) == counts

    # After a sync, every demo customer has a month-to-date statement (Bluefin's USD fees convert at the price).
    scope = scope_for_system(provider_id=provider.pk)
    for account in provider.mining_accounts.all():
        mining_account_sync(provider_id=provider.pk, account_id=account.pk)
    today = timezone.now().date()
    for customer in Customer.objects.filter(provider=provider):
        data = statement_get(scope=scope, customer_id=customer.pk, period=month_start(today), today=today)
        assert data is not None and not data.is_closed


@pytest.mark.django_db
def test_the_close_task_closes_and_a_redelivery_changes_nothing(world):
    scope = system_scope(world.provider_a)
    contract(scope, world.customer_a1, date(2025, 10, 1), revenue_share_bps=1000)
    reward_make(account_make(world.provider_a, world.customer_a1), date(2025, 10, 2), 1000)
    assert billing_month_close_task.run(world.provider_a.pk, "2025-10-01") == {"statements": 1,
                                                                              "already_closed": False}
    assert billing_month_close_task.run(world.provider_a.pk, "2025-10-01") == {"statements": 1,
                                                                              "already_closed": True}
    assert Statement.objects.count() == 1 and BillingMonth.objects.get().closed_at is not None
    # A month not over is refused and logged, not retried.
    assert "refused" in billing_month_close_task.run(world.provider_a.pk, "2999-01-01")


def test_beat_closes_the_previous_month_on_the_configured_day():
    entry = settings.CELERY_BEAT_SCHEDULE["billing-close-previous-month"]
    assert entry["task"] == "billing.tasks.billing_close_previous_month"
    assert entry["schedule"].day_of_month == {settings.BILLING_CLOSE_DAY}
    assert previous_month(date(2026, 1, 3)) == date(2025, 12, 1)
