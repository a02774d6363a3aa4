"""Rows for the portal's list pages, written straight to the tables (the sync's own tests prove how they get
there). Each call adds `n` accounts to one customer, each with a worker, hashrate points, a reward, an open alert,
a watcher link and a failing sync, so every list and dashboard grows by `n` rows."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from mining.models import (
    AccountHashrateSample,
    Alert,
    AlertKind,
    Interval,
    MiningAccount,
    Reward,
    WatcherLink,
    Worker,
    WorkerHashrateSample,
)

DATA_NOW = datetime(2026, 11, 15, 17, 0, tzinfo=UTC)
_seq = itertools.count(1)


def fleet_rows_add(*, provider, customer, n: int, now: datetime = DATA_NOW) -> list[MiningAccount]:
    accounts = []
    for _ in range(n):
        i = next(_seq)
        owner = {"provider": provider, "customer": customer}
        account = MiningAccount.objects.create(
            provider=provider, customer=customer, name=f"fleet{i:04d}", sync_status=MiningAccount.SyncStatus.FAILED,
            sync_error="The pool refused the API key: check it in the provider settings.", last_synced_at=now,
            payout_destination="main_balance", upstream_payout_destination="main_balance",
        )
        worker = Worker.objects.create(**owner, account=account, name=f"rig{i:04d}", first_seen_at=now,
                                       last_seen_online_at=now, current_hashrate_hs=Decimal("110000000000000"))
        for h in range(3):
            at = now - timedelta(hours=h)
            AccountHashrateSample.objects.create(**owner, account=account, interval=Interval.M5, at=at,
                                                 hashrate_hs=Decimal("100000000000000"), reject_rate=Decimal("0.01"))
            AccountHashrateSample.objects.create(**owner, account=account, interval=Interval.H1, at=at,
                                                 hashrate_hs=Decimal("100000000000000"), reject_rate=Decimal("0.01"))
            WorkerHashrateSample.objects.create(**owner, account=account, worker=worker, interval=Interval.H1,
                                                at=at, hashrate_hs=Decimal("100000000000000"))
        Reward.objects.create(**owner, account=account, date=now.date() - timedelta(days=1), reward_at=now,
                              total_reward_sats=1010, reward_sats=1000, fee_sats=10, fpps_rate=Decimal("0.1"),
                              hashrate_hs=Decimal("100000000000000"), status="successful",
                              payout_destination="main_balance", payout_tx_hash=f"{i:064x}")
        Alert.objects.create(provider=provider, customer=customer, account=account, kind=AlertKind.WORKER_OFFLINE,
                             condition_key=f"offline:{worker.pk}", message=f"{account.name}.{worker.name} is offline",
                             opened_at=now)
        link = WatcherLink.objects.create(**owner, upstream_id=f"wl-{i}", name=f"link {i}",
                                          url=f"https://whitebit.com/pool/watcher/{i}", permissions=["dashboard"],
                                          upstream_created_at=now)
        link.accounts.add(account)
        accounts.append(account)
    return accounts
