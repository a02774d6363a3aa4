"""Small factories for billing tests: synced rows built directly (as the sync would write them), at fixed dates."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import factory

from mining.models import AccountHashrateSample, Interval, MiningAccount, PayoutDestination, Reward, RewardStatus

_tx = itertools.count(1)


class MiningAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MiningAccount

    name = factory.Sequence(lambda n: f"acct{n:04d}")
    label = ""


class RewardFactory(factory.django.DjangoModelFactory):
    """A successful reward paid to the provider's WhiteBIT balance, 2% pool fee, unless told otherwise."""

    class Meta:
        model = Reward

    date = date(2025, 10, 1)
    reward_at = factory.LazyAttribute(lambda o: datetime.combine(o.date, time.min, tzinfo=UTC))
    reward_sats = 1000
    fee_sats = factory.LazyAttribute(lambda o: o.reward_sats * 2 // 98)
    total_reward_sats = factory.LazyAttribute(lambda o: o.reward_sats + o.fee_sats)
    fpps_rate = Decimal("0.000000123456789")
    hashrate_hs = Decimal("100000000000000")
    status = RewardStatus.SUCCESSFUL
    payout_destination = PayoutDestination.MAIN_BALANCE
    payout_address = ""
    payout_tx_hash = factory.LazyFunction(lambda: f"{next(_tx):064x}")


def account_make(provider, customer, name: str | None = None) -> MiningAccount:
    kwargs = {"name": name} if name else {}
    return MiningAccountFactory(provider=provider, customer=customer, **kwargs)


def reward_make(account, day: date, net_sats: int, *, customer=None, **kwargs) -> Reward:
    """One day's reward of `account`, billed to `customer` (default: the account's customer that day)."""
    return RewardFactory(provider_id=account.provider_id, customer=customer or account.customer, account=account,
                         date=day, reward_sats=net_sats, **kwargs)


def samples_make(account, start: date, days: int, hashrate_hs, *, customer=None, down: set | None = None) -> int:
    """5-minute points of `account` for `days` days from `start`: `hashrate_hs` each, 0 at the `down` times."""
    first = datetime.combine(start, time.min, tzinfo=UTC)
    rows = []
    for i in range(days * 288):
        at = first + timedelta(minutes=5 * i)
        hs = Decimal(0) if down and at in down else Decimal(hashrate_hs)
        rows.append(AccountHashrateSample(provider_id=account.provider_id,
                                          customer_id=(customer or account.customer).pk, account=account,
                                          interval=Interval.M5, at=at, hashrate_hs=hs))
    AccountHashrateSample.objects.bulk_create(rows, batch_size=5000)
    return len(rows)
