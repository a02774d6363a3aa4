"""Benchmark: close one month for N customers with 30 reward rows each, and export it.

    .venv/bin/python scripts/bench_billing.py --customers 10000

It creates a fresh PostgreSQL database (`bench_billing`, dropped at the end unless --keep), migrates it, and writes
N customers, one mining account each, 30 successful rewards each (September 2026; every third paid to the
customer's own address) and a contract each (25% revenue share and a BTC fee per machine), all with bulk inserts.
Then a fresh process closes the month (`billing_month_close`) and exports it (summary CSV and detail CSV, each
verifying every statement's content hash first), and reports wall times and its own peak RSS.
The last line printed is one JSON object: {"customers": N, "close_s": …, "export_s": …, "peak_rss_mib": …}.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = "bench_billing"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PERIOD = "2026-09"


def _env() -> dict[str, str]:
    return {**os.environ, "DJANGO_ENV": "development", "DEBUG": "false", "LOG_LEVEL": "WARNING",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}", "REDIS_URL": "",
            "CELERY_BROKER_URL": "memory://", "DJANGO_SETTINGS_MODULE": "portal.settings"}


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def _django() -> None:
    os.environ.update(_env())
    import django

    django.setup()


def setup(customers: int) -> None:
    """Bulk-write the month's data (not timed)."""
    _django()
    from datetime import UTC, date, datetime, time, timedelta
    from decimal import Decimal

    from billing.models import Contract, ContractVersion
    from mining.models import MiningAccount, PayoutDestination, Reward, RewardStatus
    from tenants.models import Customer, Provider

    now = datetime(2026, 10, 5, tzinfo=UTC)
    provider = Provider.objects.create(name="Bench Hosting", slug="bench")
    batch = 2000
    for start in range(0, customers, batch):
        n = range(start, min(start + batch, customers))
        cs = Customer.objects.bulk_create(
            [Customer(provider=provider, name=f"Customer {i:05d}", slug=f"c{i:05d}") for i in n])
        accounts = MiningAccount.objects.bulk_create(
            [MiningAccount(provider=provider, customer=c, name=f"acct{c.slug}") for c in cs])
        contracts = Contract.objects.bulk_create([Contract(provider=provider, customer=c, created_at=now) for c in cs])
        ContractVersion.objects.bulk_create([
            ContractVersion(provider=provider, customer=c, contract=k, effective_from=date(2026, 9, 1),
                            revenue_share_bps=2500, machine_count=4, machine_fee_monthly=Decimal("0.00012345"),
                            customer_addresses=[f"bc1q{c.slug}"], created_at=now)
            for c, k in zip(cs, contracts, strict=True)])
        rewards = []
        for c, a in zip(cs, accounts, strict=True):
            for d in range(30):
                day = date(2026, 9, 1) + timedelta(days=d)
                net = 500_000 + (a.pk * 7919 + d * 104729) % 100_000
                ext = d % 3 == 0
                rewards.append(Reward(
                    provider=provider, customer=c, account=a, date=day,
                    reward_at=datetime.combine(day, time.min, tzinfo=UTC), total_reward_sats=net + net // 49,
                    reward_sats=net, fee_sats=net // 49, fpps_rate=Decimal("0.00000051"),
                    hashrate_hs=Decimal("120000000000000"), status=RewardStatus.SUCCESSFUL,
                    payout_destination=PayoutDestination.EXTERNAL_ADDRESS if ext else PayoutDestination.MAIN_BALANCE,
                    payout_address=f"bc1q{c.slug}" if ext else "", payout_tx_hash=f"{a.pk:032x}{d:032x}"))
        Reward.objects.bulk_create(rewards, batch_size=5000)
    from django.db import connection

    with connection.cursor() as cursor:  # as autovacuum would have done on a live database
        cursor.execute("ANALYZE")


def measure(customers: int) -> dict:
    """Close and export in this fresh process; its peak RSS is the figure."""
    import resource

    _django()
    from datetime import UTC, date, datetime

    from billing.exports.month import export_csv
    from billing.models import StatementLine
    from billing.services.closing import billing_month_close
    from tenants.access import scope_for_system
    from tenants.models import Provider

    scope = scope_for_system(provider_id=Provider.objects.get(slug="bench").pk, actor="bench")
    period = date(2026, 9, 1)
    t0 = time.perf_counter()
    result = billing_month_close(scope=scope, period=period, now=datetime(2026, 10, 5, tzinfo=UTC))
    close_s = time.perf_counter() - t0
    assert result.statements == customers and StatementLine.objects.count() == customers * 30
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        rows = export_csv(scope=scope, period=period, path=Path(tmp) / "summary.csv")
        lines = export_csv(scope=scope, period=period, path=Path(tmp) / "detail.csv", detail=True)
        export_s = time.perf_counter() - t0
    assert rows == customers and lines == customers * 31  # 30 reward lines and the machine fee line
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"customers": customers, "close_s": round(close_s, 2), "export_s": round(export_s, 2),
            "peak_rss_mib": round(peak, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="keep the bench_billing database afterwards")
    parser.add_argument("--phase", choices=["setup", "measure"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "setup":
        setup(args.customers)
        return
    if args.phase == "measure":
        print(json.dumps(measure(args.customers)))
        return
    _admin(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    _admin(f"CREATE DATABASE {DB_NAME}")
    try:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=_env(), check=True)
        me = [sys.executable, str(Path(__file__).resolve()), "--customers", str(args.customers)]
        subprocess.run([*me, "--phase", "setup"], cwd=ROOT, env=_env(), check=True)
        print(f"setup (migrate + {args.customers} customers × 30 rewards): {time.perf_counter() - t0:.1f} s",
              flush=True)
        out = subprocess.run([*me, "--phase", "measure"], cwd=ROOT, env=_env(), check=True, capture_output=True,
                             text=True).stdout.strip().splitlines()[-1]
    finally:
        if not args.keep:
            _admin(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    result = json.loads(out)
    print(f"close: {result['close_s']} s, export (summary + detail CSV, hashes verified): {result['export_s']} s, "
          f"peak RSS {result['peak_rss_mib']} MiB")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
