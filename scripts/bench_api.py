"""Benchmark: the REST API's list endpoints at 1,000 and 10,000 rows per resource.

    .venv/bin/python scripts/bench_api.py [--sizes 1000,10000] [--limit 50]

It creates a fresh PostgreSQL database (`portal_bench_api`), migrates it, seeds one provider with N rows of each
listed resource (customers, mining accounts, workers, rewards, alerts, watcher links, contracts with a version,
closed statements, one account's hashrate series), and then walks every page of every list with a bearer token,
in process (Django's WSGI handler through the test client: the figure is server time, no network). Per endpoint
and size it prints the p50/p95 time per page and the most SQL queries any page took, for the first page and for
the whole walk, so that "constant in the number of rows" can be read off directly: the same page size costs the
same at row 50 as at row 9,950.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = "portal_bench_api"
DB_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
NOW = datetime(2026, 11, 20, tzinfo=UTC)


def reset_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def setup_django() -> None:
    os.environ.update({"DJANGO_ENV": "development", "DEBUG": "false", "DATABASE_URL": DB_URL, "REDIS_URL": "",
                       "LOG_LEVEL": "ERROR", "API_THROTTLE_RATE": "100000000/min",
                       "DJANGO_SETTINGS_MODULE": "portal.settings"})
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True, env=os.environ)
    import django

    django.setup()


def seed_to(n: int, world: dict) -> None:
    """Grow every resource to n rows (idempotent across sizes: only the missing rows are added)."""
    from mining.models import (
        AccountHashrateSample,
        Alert,
        AlertKind,
        Interval,
        MiningAccount,
        Reward,
        WatcherLink,
        Worker,
    )
    from tenants.models import Customer

    p, c = world["provider"], world["customer"]
    have = Customer.objects.filter(provider=p).count()
    Customer.objects.bulk_create([Customer(provider=p, name=f"Customer {i}", slug=f"c-{i}")
                                  for i in range(have, n)], batch_size=2000)
    have = MiningAccount.objects.filter(provider=p).count()
    MiningAccount.objects.bulk_create([MiningAccount(provider=p, customer=c, name=f"acct_{i:06d}")
                                       for i in range(have, n)], batch_size=2000)
    accounts = list(MiningAccount.objects.filter(provider=p).order_by("pk")[:100])
    owner = {"provider": p, "customer": c}
    have = Worker.objects.filter(provider=p).count()
    Worker.objects.bulk_create([Worker(**owner, account=accounts[i % 100], name=f"w{i:06d}", first_seen_at=NOW,
                                       current_hashrate_hs=Decimal("123456789012.5")) for i in range(have, n)],
                               batch_size=2000)
    have = Reward.objects.filter(provider=p).count()
    Reward.objects.bulk_create([
        Reward(**owner, account=accounts[i % 100], date=date(2000, 1, 1) + timedelta(days=i // 100),
               reward_at=NOW, total_reward_sats=52341, reward_sats=51000, fee_sats=1341,
               fpps_rate=Decimal("0.005"), hashrate_hs=Decimal("1e14"), status="successful")
        for i in range(have, n)], batch_size=2000)
    have = Alert.objects.filter(provider=p).count()
    Alert.objects.bulk_create([Alert(**owner, account=accounts[0], kind=AlertKind.WORKER_OFFLINE,
                                     condition_key=f"k{i}", message="offline", opened_at=NOW,
                                     resolved_at=NOW) for i in range(have, n)], batch_size=2000)
    have = WatcherLink.objects.filter(provider=p).count()
    links = WatcherLink.objects.bulk_create([
        WatcherLink(**owner, upstream_id=f"l{i}", name=f"l{i}", url=f"https://whitebit.com/l{i}",
                    permissions=["dashboard"], upstream_created_at=NOW) for i in range(have, n)], batch_size=2000)
    WatcherLink.accounts.through.objects.bulk_create(
        [WatcherLink.accounts.through(watcherlink_id=link.pk, miningaccount_id=accounts[0].pk) for link in links],
        batch_size=2000)
    _seed_billing(n, p)
    series = accounts[0]
    have = AccountHashrateSample.objects.filter(account=series).count()
    AccountHashrateSample.objects.bulk_create([
        AccountHashrateSample(**owner, account=series, interval=Interval.H1,
                              at=NOW - timedelta(hours=i + 1), hashrate_hs=Decimal("1e14"))
        for i in range(have, n)], batch_size=2000)
    world["series_account"] = series
    from django.db import connection

    with connection.cursor() as cursor:  # what autovacuum does for a real database after a bulk load
        cursor.execute("ANALYZE")


def _seed_billing(n: int, p) -> None:
    """api2: a contract with one version and one closed statement for each of the first n customers."""
    from billing.models import BillingMonth, Contract, ContractVersion, Statement
    from tenants.models import Customer

    customers = list(Customer.objects.filter(provider=p).order_by("pk")[:n])
    have = Contract.objects.filter(provider=p).count()
    contracts = Contract.objects.bulk_create([Contract(provider=p, customer=c, created_at=NOW)
                                              for c in customers[have:]], batch_size=2000)
    ContractVersion.objects.bulk_create([
        ContractVersion(provider=p, customer_id=k.customer_id, contract=k, effective_from=date(2026, 1, 1),
                        revenue_share_bps=2000, machine_count=2, machine_fee_monthly=Decimal("0.0001"),
                        created_at=NOW) for k in contracts], batch_size=2000)
    month, _ = BillingMonth.objects.get_or_create(provider=p, period=date(2026, 10, 1),
                                                  defaults={"closed_at": NOW})
    have = Statement.objects.filter(provider=p).count()
    totals = {"gross_sats": 306120, "pool_fee_sats": 6120, "net_sats": 300000, "provider_share_sats": 60000,
              "customer_share_sats": 240000, "held_by_provider_sats": 300000, "held_by_customer_sats": 0,
              "hosting_fee_sats": 20000, "sla_credit_sats": 0, "adjustments_sats": 0, "customer_net_sats": 220000,
              "pending_sats": 0}
    Statement.objects.bulk_create([
        Statement(provider=p, customer=c, billing_month=month, period=date(2026, 10, 1), period_end=date(2026, 11, 1),
                  customer_name=c.name, content_hash="0" * 64, closed_at=NOW, **totals)
        for c in customers[have:]], batch_size=2000)


def walk(client, url: str, repeats: int) -> tuple[list[float], list[int], int]:
    """Every page once for its queries, then `repeats` times for its time (the median: the machine is shared)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, queries, rows = [], [], 0
    while url:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        queries.append(len(ctx.captured_queries))  # now: the next request's start clears the log
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
        times.append(statistics.median(samples))
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        rows += len(body["results"])
        url = body["next"]
    return times, queries, rows


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3, help="timed requests per page (median kept)")
    args = parser.parse_args()
    reset_database()
    setup_django()
    from rest_framework.test import APIClient

    from tenants import services
    from tenants.access import scope_for_system
    from tenants.tokens import api_token_create

    provider = services.provider_create(name="Bench", slug="bench", upstream_base_url="https://whitebit.com")
    customer = services.customer_create(provider=provider, name="Bench Customer", slug="bench-customer")
    token = api_token_create(scope=scope_for_system(provider_id=provider.pk), name="bench",
                             scopes="read,billing").plaintext
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    world = {"provider": provider, "customer": customer}
    print(f"page size {args.limit}; server time per page in ms (in process, median of {args.repeats}), "
          "p50/p95 over all pages, queries per page (min–max)")
    print(f"{'endpoint':<34} {'rows':>6} {'pages':>5} {'p50':>6} {'p95':>6} {'first':>6} {'last':>6} {'queries':>8}")
    for size in (int(s) for s in args.sizes.split(",")):
        seed_to(size, world)
        endpoints = ["/api/v1/customers/", "/api/v1/mining-accounts/", "/api/v1/workers/", "/api/v1/rewards/",
                     "/api/v1/alerts/", "/api/v1/watcher-links/", "/api/v1/contracts/", "/api/v1/statements/",
                     f"/api/v1/mining-accounts/{world['series_account'].pk}/hashrate/"]
        for endpoint in endpoints:
            client.get(f"{endpoint}?limit={args.limit}")  # warm caches and connections
            times, queries, rows = walk(client, f"{endpoint}?limit={args.limit}", args.repeats)
            label = endpoint if "hashrate" not in endpoint else "/api/v1/mining-accounts/{id}/hashrate/"
            print(f"{label:<34} {rows:>6} {len(times):>5} {statistics.median(times):>6.1f} {p95(times):>6.1f} "
                  f"{times[0]:>6.1f} {times[-1]:>6.1f} {min(queries):>3}–{max(queries):<3}")


if __name__ == "__main__":
    main()
