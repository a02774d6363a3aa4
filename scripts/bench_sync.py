"""Benchmark: sync N accounts × W workers against the sandbox with per-request latency, through real Celery workers.

    .venv/bin/python scripts/bench_sync.py --accounts 1000 --workers 20 --latency-ms 50 --worker-procs 2 --threads 48

It creates a fresh PostgreSQL database (`portal_bench`), starts the sandbox pool (`run_sandbox`, data clock frozen)
and W Celery worker processes (threads pool), seeds a provider for the sandbox's accounts, then times two cycles
(beat's fan-out message, consumed by the workers, until every account reports a sync newer than the cycle's start):

* cycle 1: first sync (backfill of rewards, hashrate history, per-worker hashrate);
* cycle 2: steady state (everything re-read over its overlap window; per-worker hashrate not due yet).

For each cycle it prints wall time, requests per endpoint (from the sandbox's counters), the lower bound set by the
shared rate budget (max over endpoints of requests ÷ budget per second), rows written per second and 429s drawn.
Then it profiles one in-process re-sync of a sample of accounts to show where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable
DB_NAME = os.environ.get("BENCH_DB_NAME", "portal_bench")
DB_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
_REDIS_SERVER = os.environ.get("BENCH_REDIS_SERVER", "redis://127.0.0.1:6379")  # parallel checkouts: a server each
REDIS_URL = f"{_REDIS_SERVER}/11"
BROKER_URL = f"{_REDIS_SERVER}/10"
KEY, SECRET = "bench-key", "bench-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env(**extra: str) -> dict[str, str]:
    return {
        **os.environ, "DJANGO_ENV": "development", "DEBUG": "false", "DATABASE_URL": DB_URL, "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": BROKER_URL, "WHITEBIT_REDIS_PREFIX": "bench:", "LOG_LEVEL": "WARNING", **extra,
    }


def manage(*args: str) -> str:
    return subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env(), check=True, capture_output=True,
                          text=True).stdout


def reset_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    redis.Redis.from_url(BROKER_URL).flushdb()


def control(base: str, method: str, path: str, body: dict | None = None) -> dict:
    import requests

    response = requests.request(method, base + path, json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def run_cycle(base: str, total: int, label: str) -> dict:
    import django

    os.environ.update({k: v for k, v in env().items() if k in (
        "DJANGO_ENV", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DEBUG")})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    from kombu import Connection

    from mining.models import AccountHashrateSample, MiningAccount, Reward, Worker, WorkerHashrateSample
    from portal.celery import app

    def rows() -> int:
        return sum(m.objects.count() for m in (AccountHashrateSample, WorkerHashrateSample, Reward, Worker))

    control(base, "POST", "/_sandbox/stats/reset")
    rows_before = rows()
    started = datetime.now(UTC)
    t0 = time.monotonic()
    with Connection(BROKER_URL) as conn:
        app.send_task("mining.tasks.sync_fanout", connection=conn)
    while True:
        done = MiningAccount.objects.filter(last_synced_at__gte=started).count()
        failed = MiningAccount.objects.exclude(sync_status__in=["ok", "never"]).count()
        if done + failed >= total:
            break
        time.sleep(0.25)
    wall = time.monotonic() - t0
    stats = control(base, "GET", "/_sandbox/stats")
    return {"label": label, "wall_s": wall, "stats": stats, "rows_written": rows() - rows_before, "failed": failed}


def summarise(cycle: dict, budget_per_s: float) -> dict:
    stats = cycle["stats"]
    requests = {ep: v["total"] for ep, v in stats["by_endpoint"].items()}
    bound = max(requests.values()) / budget_per_s if requests else 0.0
    return {
        "cycle": cycle["label"],
        "wall_s": round(cycle["wall_s"], 1),
        "lower_bound_s": round(bound, 1),
        "ratio": round(cycle["wall_s"] / bound, 2) if bound else None,
        "requests": requests,
        "requests_total": sum(requests.values()),
        "rows_written": cycle["rows_written"],
        "rows_per_s": round(cycle["rows_written"] / cycle["wall_s"]),
        "status_429": stats["by_status"].get("429", 0),
        "failed_accounts": cycle["failed"],
    }


def profile_resync(sample: int) -> str:
    from mining.models import MiningAccount
    from mining.services.sync import mining_account_sync

    ids = list(MiningAccount.objects.order_by("pk").values_list("provider_id", "pk")[:sample])
    profiler = cProfile.Profile()
    t0 = time.monotonic()
    profiler.enable()
    for provider_id, account_id in ids:
        mining_account_sync(provider_id=provider_id, account_id=account_id)
    profiler.disable()
    wall = time.monotonic() - t0
    out = StringIO()
    stats = pstats.Stats(profiler, stream=out)
    total = stats.total_tt
    http = sum(v[3] for k, v in stats.stats.items() if k[2] in ("_send",) and "whitebit" in k[0])
    wait = sum(v[3] for k, v in stats.stats.items() if k[2] == "acquire" and "ratelimit" in k[0])
    db = sum(v[3] for k, v in stats.stats.items() if k[2] == "execute" and "psycopg" in k[0] and "cursor" in k[0])
    stats.sort_stats("cumulative").print_stats(r"mining/(services|whitebit/(client|transport))", 25)
    head = (f"in-process re-sync of {len(ids)} accounts: {wall:.2f}s wall; of the profiled {total:.2f}s: "
            f"HTTP to the pool {http:.2f}s ({http / total:.0%}), waiting for the rate budget {wait:.2f}s "
            f"({wait / total:.0%}), SQL {db:.2f}s ({db / total:.0%}), the rest (our Python) "
            f"{total - http - wait - db:.2f}s ({(total - http - wait - db) / total:.0%}); "
            f"{(total - http - wait) / len(ids) * 1000:.1f} ms per account outside HTTP and budget waits")
    return head + "\n" + out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=20)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--worker-procs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=48, help="the worker's --concurrency")
    # compose runs prefork (the pool that enforces time limits) with WORKER_CONCURRENCY=8: --pool prefork --threads 8
    parser.add_argument("--pool", choices=["threads", "prefork"], default="threads")
    parser.add_argument("--fraction", type=float, default=0.5)
    parser.add_argument("--profile-sample", type=int, default=50)
    parser.add_argument("--history-days", type=int, default=7)
    args = parser.parse_args()

    reset_database()
    manage("migrate", "--noinput")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    procs: list[subprocess.Popen] = []
    try:
        procs.append(subprocess.Popen(
            [PY, "manage.py", "run_sandbox", "--port", str(port), "--api-key", KEY, "--api-secret", SECRET,
             "--seed", "7", "--accounts", str(args.accounts), "--workers", str(args.workers),
             "--history-days", str(args.history_days),
             "--latency-ms", str(args.latency_ms), "--now", now.isoformat().replace("+00:00", "Z")],
            cwd=ROOT, env=env(), stdout=subprocess.DEVNULL, start_new_session=True))
        for _ in range(100):
            try:
                control(base, "GET", "/_sandbox/stats")
                break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.2)
        t = time.monotonic()
        manage("seed_demo", "--upstream", base, "--api-key", KEY, "--api-secret", SECRET, "--slug", "bench")
        print(f"seeded {args.accounts} accounts in {time.monotonic() - t:.1f}s", flush=True)
        for i in range(args.worker_procs):
            procs.append(subprocess.Popen(
                [PY, "-m", "celery", "-A", "portal", "worker", "--pool", args.pool, "--concurrency",
                 str(args.threads), "-n", f"bench{i}@%h", "--without-heartbeat", "--without-mingle",
                 "--without-gossip", "--loglevel", "ERROR"],
                # A first sync of this size outlasts the 300 s cycle; in production the next fan-out re-enqueues what
                # expired, here one fan-out per cycle is timed, so tasks must not expire mid-cycle.
                cwd=ROOT, env=env(WHITEBIT_RATE_BUDGET_FRACTION=str(args.fraction), MINING_SYNC_INTERVAL_S="3600"),
                start_new_session=True,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(3)
        budget_per_s = 1000 * args.fraction / 10
        results = []
        for label in ("first sync", "steady state"):
            cycle = run_cycle(base, args.accounts, label)
            results.append(summarise(cycle, budget_per_s))
            print(json.dumps(results[-1]), flush=True)
        for proc in procs[1:]:
            os.killpg(proc.pid, signal.SIGTERM)
        print(profile_resync(args.profile_sample))
        print(json.dumps({"machine": f"{os.cpu_count()} cores", "args": vars(args), "results": results}, indent=2))
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)


if __name__ == "__main__":
    main()
