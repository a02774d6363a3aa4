"""Benchmark: the customer dashboard and the workers page for one account with a year of history and 500 workers.

    .venv/bin/python scripts/bench_portal.py --requests 200

It creates a fresh PostgreSQL database (`portal_bench_portal`, or BENCH_DB_NAME), migrates it, and writes with
`generate_series` the history the sync keeps at its retention (docs/SYNC.md): account hashrate at 5 minutes for
35 days, hourly for 400 days, daily for a year; hourly points of each of the 500 workers for 400 days (4.8 million
rows); a year of daily rewards. Then, in this process, a signed-in customer asks for each page `--requests` times
through Django's test client (the whole request: middleware, session, selectors, templates) and it prints the
server time p50/p95 and the query count per request. No cache is involved: every request reads the tables.

The last line printed is one JSON object: {"dashboard": {"p50_ms", "p95_ms", "queries"}, "workers": {...}, ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = os.environ.get("BENCH_DB_NAME", "portal_bench_portal")
DB_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
WORKERS = 500
END = "2026-11-15 17:00:00+00"  # the data's "now"; pages end their charts at the newest point they hold


def reset_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def setup_django() -> None:
    os.environ.update({"DJANGO_ENV": "development", "DEBUG": "false", "DATABASE_URL": DB_URL, "REDIS_URL": "",
                       "DJANGO_SETTINGS_MODULE": "portal.settings", "ALLOWED_HOSTS": "localhost,testserver"})
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=os.environ, check=True)
    import django

    django.setup()


def seed(worker_days: int) -> tuple[object, str]:
    from django.db import connection

    from mining.models import MiningAccount
    from tenants import services
    from tenants.models import CustomerRole

    provider = services.provider_create(name="Bench Hosting", slug="bench", upstream_base_url="http://127.0.0.1:9",
                                        api_key="k", api_secret="s")
    customer = services.customer_create(provider=provider, name="Bench Customer", slug="bench-co")
    account = MiningAccount.objects.create(provider=provider, customer=customer, name="bench_account",
                                           sync_status="ok", payout_destination="main_balance")
    user = services.user_get_or_create(email="bench@bench.example", password="bench-password-123")
    services.customer_membership_grant(customer=customer, user=user, role=CustomerRole.ADMIN)
    t0 = time.perf_counter()
    owner = {"p": provider.pk, "c": customer.pk, "a": account.pk, "end": END, "n": WORKERS}
    with connection.cursor() as cur:
        cur.execute("""
            INSERT INTO mining_worker (provider_id, customer_id, account_id, name, status, first_seen_at,
                                       last_seen_online_at, current_hashrate_hs)
            SELECT %(p)s, %(c)s, %(a)s, 'rig' || lpad(i::text, 4, '0'),
                   CASE WHEN i %% 25 = 0 THEN 'offline' WHEN i %% 10 = 0 THEN 'low' ELSE 'online' END,
                   %(end)s::timestamptz - interval '400 days', %(end)s::timestamptz, 100e12 + i * 1e9
            FROM generate_series(1, %(n)s) i""", owner)
        for interval, step, span in (("5m", "5 minutes", "35 days"), ("1h", "1 hour", "400 days"),
                                     ("24h", "1 day", "365 days")):
            cur.execute("""
                INSERT INTO mining_accounthashratesample (provider_id, customer_id, account_id, interval, at,
                                                          hashrate_hs, reject_rate)
                SELECT %(p)s, %(c)s, %(a)s, %(interval)s, t,
                       50e15 + (extract(epoch from t)::bigint %% 7919) * 1e11, 0.0105
                FROM generate_series(%(end)s::timestamptz - %(span)s::interval, %(end)s::timestamptz,
                                     %(step)s::interval) t""", {**owner, "interval": interval, "step": step,
                                                                "span": span})
        cur.execute("""
            INSERT INTO mining_workerhashratesample (provider_id, customer_id, account_id, worker_id, interval, at,
                                                     hashrate_hs)
            SELECT %(p)s, %(c)s, %(a)s, w.id, '1h', t, 100e12 + (extract(epoch from t)::bigint %% 997) * 1e9
            FROM mining_worker w,
                 generate_series(%(end)s::timestamptz - make_interval(days => %(days)s), %(end)s::timestamptz,
                                 interval '1 hour') t
            WHERE w.account_id = %(a)s""", {**owner, "days": worker_days})
        cur.execute("""
            INSERT INTO mining_reward (provider_id, customer_id, account_id, date, reward_at, currency,
                                       total_reward_sats, reward_sats, fee_sats, fpps_rate, hashrate_hs, status,
                                       payout_destination, payout_address, payout_tx_hash, first_seen_at)
            SELECT %(p)s, %(c)s, %(a)s, d::date, d, 'BTC', 2020000, 2000000, 20000, 0.00000004, 50e15,
                   CASE WHEN d > %(end)s::timestamptz - interval '2 days' THEN 'pending' ELSE 'successful' END,
                   'main_balance', '', md5(d::text) || md5(d::text), now()
            FROM generate_series(%(end)s::timestamptz - interval '365 days',
                                 %(end)s::timestamptz - interval '1 day', interval '1 day') d""", owner)
    from mining.services.sync.worker_hashrate import worker_means_refresh

    worker_means_refresh(account_id=account.pk)  # the rollup the sync writes after each worker-hashrate read
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
        cur.execute("SELECT count(*) FROM mining_workerhashratesample")
        worker_points = cur.fetchone()[0]
    print(f"seeded {WORKERS} workers, {worker_points} worker points in {time.perf_counter() - t0:.1f} s",
          file=sys.stderr)
    return user, f"/c/{provider.slug}/{customer.slug}/"


def measure(client, url: str, n: int) -> dict:
    from django.db import connection

    for _ in range(5):  # warm the connection, the template cache and PostgreSQL's buffers
        assert client.get(url).status_code == 200, url
    queries: list[str] = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.get(url)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200
    times.sort()
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
            "queries": len(queries), "bytes": len(response.content)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--worker-days", type=int, default=400, help="days of hourly points per worker")
    parser.add_argument("--reuse", action="store_true", help="measure the database a previous run seeded")
    args = parser.parse_args()
    if not args.reuse:
        reset_database()
    setup_django()
    if args.reuse:
        from django.contrib.auth import get_user_model

        user, base = get_user_model().objects.get(username="bench@bench.example"), "/c/bench/bench-co/"
    else:
        user, base = seed(args.worker_days)
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    pages = {
        "dashboard": base + "dashboard/",
        "dashboard_1y": base + "dashboard/?range=1y",
        "workers": base + "workers/",
        "workers_by_24h_mean": base + "workers/?sort=hashrate_24h",
    }
    result = {}
    for name, url in pages.items():
        result[name] = measure(client, url, args.requests)
        print(f"{name:22s} {result[name]}", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
