"""Benchmark: sync N accounts × W workers against the sandbox with per-request latency, through real Celery workers.

    .venv/bin/python scripts/bench_sync.py --accounts 1000 --workers 20 --latency-ms 50 --worker-procs 2

By default it runs what compose deploys: `--worker-procs` worker containers (`--scale worker=N`), each
`celery worker -Q celery -O fair --pool prefork --concurrency $WORKER_CONCURRENCY` (8), and then the same with the
threads pool (`--threads`, 48), and prints both side by side (`--pools prefork` runs one).

For each pool it creates a fresh PostgreSQL database (`portal_bench`), starts the sandbox pool (`run_sandbox`, data
clock frozen) and the Celery worker processes, seeds a provider for the sandbox's accounts, then times two cycles
(beat's fan-out message, consumed by the workers, until every account reports a sync newer than the cycle's start):

* cycle 1: first sync (backfill of rewards, hashrate history, per-worker hashrate);
* cycle 2: steady state (everything re-read over its overlap window; per-worker hashrate not due yet).

For each cycle it prints wall time, requests per endpoint (from the sandbox's counters), the lower bound set by the
shared rate budget (max over endpoints of requests ÷ budget per second), rows written per second, 429s drawn, and the
CPU the worker processes themselves used (utime + stime of every process in their sessions, prefork children
included, from /proc) per account synced, next to the sandbox's. Then it profiles one in-process re-sync of a sample
of accounts to show where the time goes, with its CPU time and SQL statements per account.
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

    if "DJANGO_SETTINGS_MODULE" in os.environ:  # a previous pool's run left this process connected
        from django.db import connections

        connections.close_all()

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    redis.Redis.from_url(BROKER_URL).flushdb()


CLK_TCK = os.sysconf("SC_CLK_TCK")


def session_cpu_s(sessions: set[int]) -> float:
    """CPU seconds (user + system) used so far by every live process in these sessions (a worker and its children)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # exited meanwhile
            continue
        if int(fields[3]) in sessions:  # field 6 of stat (session), counted after the command name
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK_TCK


def control(base: str, method: str, path: str, body: dict | None = None) -> dict:
    import requests

    response = requests.request(method, base + path, json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def run_cycle(base: str, total: int, label: str, workers: set[int], sandbox: set[int]) -> dict:
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
    cpu_before, sandbox_before = session_cpu_s(workers), session_cpu_s(sandbox)
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
    cpu, sandbox_cpu = session_cpu_s(workers) - cpu_before, session_cpu_s(sandbox) - sandbox_before
    stats = control(base, "GET", "/_sandbox/stats")
    return {"label": label, "wall_s": wall, "stats": stats, "rows_written": rows() - rows_before, "failed": failed,
            "worker_cpu_s": cpu, "sandbox_cpu_s": sandbox_cpu, "accounts": total, "load": os.getloadavg()}


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
        "worker_cpu_s": round(cycle["worker_cpu_s"], 1),
        "worker_cpu_ms_per_account": round(cycle["worker_cpu_s"] / cycle["accounts"] * 1000, 1),
        "sandbox_cpu_s": round(cycle["sandbox_cpu_s"], 1),
        "load_average": [round(x, 2) for x in cycle["load"]],
    }


def profile_resync(sample: int) -> str:
    from django.db import connection

    from mining.models import MiningAccount
    from mining.services.sync import mining_account_sync

    ids = list(MiningAccount.objects.order_by("pk").values_list("provider_id", "pk")[:sample])
    statements = [0]

    def count(execute, sql, params, many, context):
        statements[0] += 1
        return execute(sql, params, many, context)

    # Unprofiled first: CPU time of this process per account (no cProfile inflation), SQL statements per account.
    cpu0 = time.process_time()
    with connection.execute_wrapper(count):
        for provider_id, account_id in ids:
            mining_account_sync(provider_id=provider_id, account_id=account_id)
    cpu_ms = (time.process_time() - cpu0) / len(ids) * 1000
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
            f"{(total - http - wait) / len(ids) * 1000:.1f} ms per account outside HTTP and budget waits (profiled); "
            f"unprofiled: {cpu_ms:.1f} ms CPU per account (client signing and JSON included), "
            f"{statements[0] / len(ids):.1f} SQL statements per account")
    return head + "\n" + out.getvalue()


def run_pool(args, pool: str, concurrency: int, profile: bool) -> list[dict]:
    """One pool's two cycles on a fresh database and sandbox; the profile too when asked."""
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
        print(f"[{pool}] seeded {args.accounts} accounts in {time.monotonic() - t:.1f}s", flush=True)
        for i in range(args.worker_procs):
            # compose's worker command (docker-compose.yml), one per container
            procs.append(subprocess.Popen(
                [PY, "-m", "celery", "-A", "portal", "worker", "-Q", "celery", "-O", "fair", "--pool", pool,
                 "--concurrency", str(concurrency), "-n", f"bench{i}@%h", "--without-heartbeat", "--without-mingle",
                 "--without-gossip", "--loglevel", "ERROR"],
                # A first sync of this size outlasts the 300 s cycle; in production the next fan-out re-enqueues what
                # expired, here one fan-out per cycle is timed, so tasks must not expire mid-cycle.
                cwd=ROOT, env=env(WHITEBIT_RATE_BUDGET_FRACTION=str(args.fraction), MINING_SYNC_INTERVAL_S="3600"),
                start_new_session=True,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(3)
        workers = {p.pid for p in procs[1:]}
        sandbox = {procs[0].pid}
        budget_per_s = 1000 * args.fraction / 10
        results = []
        for label in ("first sync", "steady state"):
            cycle = run_cycle(base, args.accounts, label, workers, sandbox)
            results.append({"pool": f"{pool} {args.worker_procs}×{concurrency}", **summarise(cycle, budget_per_s)})
            print(json.dumps(results[-1]), flush=True)
        for proc in procs[1:]:
            os.killpg(proc.pid, signal.SIGTERM)
        if profile:
            print(profile_resync(args.profile_sample), flush=True)
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)


def side_by_side(results: list[dict]) -> str:
    head = ("| pool | cycle | wall s | bound s | ratio | requests | rows written | 429 | worker CPU s | "
            "worker CPU ms/account | sandbox CPU s | load average |")
    lines = [head, "|" + "---|" * 12]
    for r in results:
        lines.append(f"| {r['pool']} | {r['cycle']} | {r['wall_s']} | {r['lower_bound_s']} | {r['ratio']}× | "
                     f"{r['requests_total']} | {r['rows_written']} | {r['status_429']} | {r['worker_cpu_s']} | "
                     f"{r['worker_cpu_ms_per_account']} | {r['sandbox_cpu_s']} | "
                     f"{' '.join(str(x) for x in r['load_average'])} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=20)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--worker-procs", type=int, default=2, help="worker containers (compose --scale worker=N)")
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("WORKER_CONCURRENCY", "8")),
                        help="prefork processes per worker (compose's WORKER_CONCURRENCY, default 8)")
    parser.add_argument("--threads", type=int, default=48, help="threads per worker for the threads pool")
    parser.add_argument("--pools", default="prefork,threads", help="comma-separated: prefork (compose), threads")
    parser.add_argument("--fraction", type=float, default=0.5)
    parser.add_argument("--profile-sample", type=int, default=50)
    parser.add_argument("--history-days", type=int, default=7)
    args = parser.parse_args()

    results = []
    for n, pool in enumerate(p.strip() for p in args.pools.split(",")):
        concurrency = args.concurrency if pool == "prefork" else args.threads
        results += run_pool(args, pool, concurrency, profile=n == 0 and args.profile_sample > 0)
    print(side_by_side(results))
    print(json.dumps({"machine": f"{os.cpu_count()} cores", "args": vars(args), "results": results}, indent=2))


if __name__ == "__main__":
    main()
