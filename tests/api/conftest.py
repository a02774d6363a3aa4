"""The API's world: Alice's provider A (customers A1 and A2) and Bob's provider B, each with a small fleet of
synced rows, and tokens of every kind. Rows are written directly: these tests are about the API, not the sync."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from mining.models import (
    AccountHashrateSample,
    Alert,
    AlertKind,
    Interval,
    MiningAccount,
    Reward,
    RewardStatus,
    WatcherLink,
    Worker,
    WorkerHashrateSample,
)
from tenants.access import scope_for_system
from tenants.tokens import api_token_create

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _generous_throttle(settings):
    """Throttling has its own tests; elsewhere it must not depend on what other tests did to the shared cache."""
    settings.API_THROTTLE_RATE = "100000/min"


def fleet_make(provider, customer, *, prefix: str) -> dict:
    """One account with two workers, hashrate samples, rewards, an alert and a watcher link."""
    account = MiningAccount.objects.create(provider=provider, customer=customer, name=f"{prefix}_site",
                                           label="Site", payout_destination="main_balance")
    owner = {"provider": provider, "customer": customer}
    workers = [Worker.objects.create(**owner, account=account, name=f"w{i}", first_seen_at=NOW,
                                     current_hashrate_hs=Decimal("100000000000000.5")) for i in (1, 2)]
    AccountHashrateSample.objects.bulk_create([
        AccountHashrateSample(**owner, account=account, interval=interval, at=NOW - timedelta(hours=h),
                              hashrate_hs=Decimal("200000000000001.25"), reject_rate=Decimal("0.0012"))
        for h in range(5) for interval in (Interval.H1, Interval.D1)
    ])
    WorkerHashrateSample.objects.bulk_create([
        WorkerHashrateSample(**owner, account=account, worker=workers[0], interval=Interval.H1,
                             at=NOW - timedelta(hours=h), hashrate_hs=Decimal("100000000000000.5"))
        for h in range(5)
    ])
    rewards = [Reward.objects.create(
        **owner, account=account, date=date(2026, 11, d), reward_at=datetime(2026, 11, d, tzinfo=UTC),
        total_reward_sats=9_007_199_254_740_993 if d == 1 else 52_341, reward_sats=(9_007_199_254_740_993 - 3)
        if d == 1 else 51_000, fee_sats=3 if d == 1 else 1_341, fpps_rate=Decimal("0.005123456789"),
        hashrate_hs=Decimal("200000000000001.25"), status=RewardStatus.SUCCESSFUL if d < 3 else RewardStatus.PENDING,
    ) for d in (1, 2, 3)]
    alert = Alert.objects.create(**owner, account=account, kind=AlertKind.WORKER_OFFLINE,
                                 condition_key=f"{prefix}-offline", message=f"{prefix} w2 offline", opened_at=NOW)
    link = WatcherLink.objects.create(**owner, upstream_id=f"{prefix}-link", name=f"{prefix}_link",
                                      url=f"https://whitebit.com/mining-pool/watcher-link/{prefix}-link",
                                      permissions=["dashboard"], upstream_created_at=NOW)
    link.accounts.add(account)
    return {"account": account, "workers": workers, "rewards": rewards, "alert": alert, "link": link}


@dataclass
class ApiWorld:
    world: object
    a1: dict  # provider A, customer A1's fleet
    a2: dict  # provider A, customer A2's fleet
    b1: dict  # provider B's fleet
    tokens: dict  # name → plaintext

    def client(self, token: str | None = None) -> APIClient:
        c = APIClient()
        if token is not None:
            c.credentials(HTTP_AUTHORIZATION=f"Bearer {self.tokens.get(token, token)}")
        return c


def token_make(provider, *, scopes, customer=None, name="test", expires_in_days=None, now=None) -> str:
    scope = scope_for_system(provider_id=provider.pk, actor="test")
    return api_token_create(scope=scope, name=name, scopes=scopes, customer_id=customer.pk if customer else None,
                            expires_in_days=expires_in_days, now=now).plaintext


@pytest.fixture
def api_world(world) -> ApiWorld:
    w = world
    tokens = {
        "a_write": token_make(w.provider_a, scopes="read,write", name="crm"),
        "a_read": token_make(w.provider_a, scopes="read", name="monitoring"),
        "a1_write": token_make(w.provider_a, scopes="read,write", customer=w.customer_a1, name="carol-tool"),
        "a2_read": token_make(w.provider_a, scopes="read", customer=w.customer_a2, name="eve-tool"),
        "b_write": token_make(w.provider_b, scopes="read,write,billing", name="bob-crm"),
    }
    return ApiWorld(
        world=w,
        a1=fleet_make(w.provider_a, w.customer_a1, prefix="a1"),
        a2=fleet_make(w.provider_a, w.customer_a2, prefix="a2"),
        b1=fleet_make(w.provider_b, w.customer_b1, prefix="b1"),
        tokens=tokens,
    )


# ---------------------------------------------------------------------------------------------- api2: billing
BILLING_NOW = NOW  # 2026-11-20: October 2026 is over and closed below; November is the running month


@dataclass
class BillingWorld:
    api: ApiWorld
    contract: object  # customer A1's contract
    version: object  # its one version (from 2026-10-01)
    statement: object  # A1's closed October 2026 statement
    rewards: list  # A1's October rewards


@pytest.fixture
def billing_world(api_world) -> BillingWorld:
    """Provider A bills customer A1: 20% revenue share and 2 machines at 0.0001 BTC; three October rewards of
    100,000 sats; October closed. Built through billing's own services, at the fixed clock."""
    from billing.models import Statement
    from billing.services.closing import billing_month_close
    from billing.services.contracts import ContractTerms, contract_version_create
    from tests.billing.factories import reward_make

    w = api_world.world
    scope = scope_for_system(provider_id=w.provider_a.pk, actor="test")
    version = contract_version_create(
        scope=scope, customer_id=w.customer_a1.pk, effective_from=date(2026, 10, 1), now=BILLING_NOW,
        terms=ContractTerms(revenue_share_bps=2000, machine_count=2, machine_fee_monthly=Decimal("0.0001")))
    rewards = [reward_make(api_world.a1["account"], date(2026, 10, d), 100_000) for d in (1, 2, 3)]
    billing_month_close(scope=scope, period=date(2026, 10, 1), now=BILLING_NOW)
    api_world.tokens.update({
        "a_billing": token_make(w.provider_a, scopes="read,write,billing", name="accounting"),
        "a_billing_read": token_make(w.provider_a, scopes="read,billing", name="ledger"),
        "a1_billing": token_make(w.provider_a, scopes="read,write,billing", customer=w.customer_a1, name="carol-erp"),
    })
    return BillingWorld(api=api_world, contract=version.contract, version=version,
                        statement=Statement.objects.get(customer=w.customer_a1, period=date(2026, 10, 1)),
                        rewards=rewards)
