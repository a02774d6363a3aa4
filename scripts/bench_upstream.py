"""Benchmark: the WhiteBIT client against the sandbox pool on loopback, requests per second per endpoint.

    .venv/bin/python scripts/bench_upstream.py --seconds 5 --threads 16

The sandbox runs in its own process (`manage.py run_sandbox`, rate limit lifted so the pool's 1000/10 s does not cap
the figure); the client runs here with N threads sharing one client (one connection pool, real signing, real nonces,
no rate budget). Each endpoint is hammered for `--seconds`; every request must succeed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mining.whitebit.client import WhiteBitClient  # noqa: E402
from mining.whitebit.ratelimit import UnlimitedBudget  # noqa: E402

KEY, SECRET = "bench-key", "bench-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def calls(client: WhiteBitClient, now: datetime) -> dict[str, Callable[[int], object]]:
    """One representative call per endpoint; `i` varies the account so caches do not flatter the figure."""

    def acct(i: int) -> str:
        return f"acct_{i % 20 + 1:03d}"

    payout_address = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
    return {
        "accounts": lambda i: client.accounts_list(limit=30),
        "accounts/create": lambda i: client.account_create(name=f"bench_{os.getpid()}_{i}_{time.monotonic_ns()}"),
        "rewards": lambda i: client.rewards_list(account=acct(i), limit=30),
        "hashrate (5m, 1 h)": lambda i: client.account_hashrate(account=acct(i), interval="5m",
                                                                from_at=now - timedelta(hours=1), to_at=now),
        "payout-destination": lambda i: client.payout_destination_get(account=acct(i)),
        "payout-destination/edit": lambda i: client.payout_destination_set(
            account=acct(i), destination="external_address", address=payout_address),
        "miners/info": lambda i: client.miner_info(account=acct(i)),
        "workers/names": lambda i: client.worker_names(account=acct(i)),
        "workers/hashrate (1h, 24 h)": lambda i: client.worker_hashrate(
            account=acct(i), worker="worker_001", interval="1h", from_at=now - timedelta(hours=24), to_at=now),
        "watcher-links/list": lambda i: client.watcher_links_list(account=acct(i)),
    }


def hammer(fn: Callable[[int], object], threads: int, seconds: float) -> tuple[int, int]:
    done = [0] * threads
    errors = [0] * threads
    stop = time.monotonic() + seconds

    def run(t: int) -> None:
        i = t
        while time.monotonic() < stop:
            try:
                fn(i)
                done[t] += 1
            except Exception:  # noqa: BLE001 - counted and reported
                errors[t] += 1
            i += threads

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(done), sum(errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    port = free_port()
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    env = {**os.environ, "DJANGO_ENV": "development"}
    sandbox = subprocess.Popen(
        [sys.executable, "manage.py", "run_sandbox", "--port", str(port), "--api-key", KEY, "--api-secret", SECRET,
         "--seed", "3", "--accounts", "20", "--workers", "20", "--history-days", "7", "--rate-limit", "10000000",
         "--now", now.isoformat().replace("+00:00", "Z")],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        client = WhiteBitClient(base, KEY, SECRET, budget=UnlimitedBudget(), pool_maxsize=args.threads,
                                max_retries=0, timeout_s=10)
        for _ in range(100):
            try:
                client.miner_info(account="acct_001")
                break
            except Exception:  # noqa: BLE001 - not up yet
                if sandbox.poll() is not None:
                    raise SystemExit("the sandbox did not start") from None
                time.sleep(0.2)
        else:
            raise SystemExit("the sandbox did not answer within 20 s")
        results = {}
        for name, fn in calls(client, now).items():
            n, errors = hammer(fn, args.threads, args.seconds)
            results[name] = {"requests_per_s": round(n / args.seconds), "errors": errors}
            print(f"{name:32s} {n / args.seconds:8.0f} req/s  errors {errors}", flush=True)
        print(json.dumps({"machine": f"{os.cpu_count()} cores", "threads": args.threads,
                          "seconds": args.seconds, "results": results}))
    finally:
        os.killpg(sandbox.pid, signal.SIGTERM)


if __name__ == "__main__":
    main()
