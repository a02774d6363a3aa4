"""The fault run (issue 17): break a private deployment on purpose and measure what the user would notice.

    .venv/bin/python scripts/chaos.py --accounts 10 --rounds 3            # every experiment
    .venv/bin/python scripts/chaos.py --accounts 3 --rounds 1 --experiments pool_faults,worker_kill --json

It starts a private PostgreSQL (initdb/pg_ctl on a free port; a `chaos_<pid>` database on the shared server when
initdb is missing), a private Redis, the sandbox pool (`run_sandbox`), two Celery sync workers, a `notify` worker
and beat, all on free loopback ports (scripts/chaos_stack.py). Each experiment repeats its fault `--rounds` times:

* worker_kill  SIGKILL a sync worker's process group at a random moment mid-sync, start it again;
* redis_kill   kill -9 Redis while the workers hold unacknowledged messages, start it again (same data);
* pg_stop      `pg_ctl -m immediate stop` one second into a sync, start again after --pg-down-s
               (pg_terminate_backend of every connection when no private instance can be made);
* pool_faults  500, 503, hang (longer than the client's timeout) and truncated JSON from the pool;
* smtp         alert mail queued while the mail server refuses connections, then while it accepts and never
               answers: the sync must go on, and every message arrives once when the server is back.

Per experiment it prints: accounts interrupted mid-sync, accounts seen stuck (a lease left behind, a failed or
retrying sync) and for how long, accounts shown "In step" while stuck, the recovery time (from the fault's end
until every account has synced again), and rows lost / doubled, found by syncing a second provider over the same
pool accounts afterwards (the pool's own answers, read through the client) and comparing row by row.
Exit status 1 if anything was lost or doubled, an account was shown "In step" while stuck, or a round did not
recover.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.chaos_stack import KEY, SECRET, Stack, wait_until

STUCK_AFTER_S = 2.0  # an interrupted sync not finished this long after the fault ended counts as stuck
EXPERIMENTS = ("worker_kill", "redis_kill", "pg_stop", "pool_faults", "smtp")


# --- what the user sees -------------------------------------------------------------------------------------

def sample(provider_id: int) -> dict[int, tuple] | None:
    """Every account's (last_synced_at, lease token, lease_until, status, shown label) now; None if the database
    cannot be read (the pages could not either)."""
    from django.db import connection
    from django.utils import timezone

    from mining.models import MiningAccount
    from mining.selectors.sync import sync_health

    try:
        now = timezone.now()
        return {a.pk: (a.last_synced_at, a.sync_lease_token, a.sync_lease_until, a.sync_status,
                       sync_health(a, now=now).label)
                for a in MiningAccount.objects.filter(provider_id=provider_id, is_active=True)}
    except Exception:  # noqa: BLE001 - the database is down: that is the fault, not a result
        connection.close()
        return None


def settled(provider_id: int, after=None) -> bool:
    seen = sample(provider_id)
    return bool(seen) and all(last is not None and not token and status == "ok" and (after is None or last > after)
                              for last, token, _, status, _ in seen.values())


def fanout(stack: Stack) -> None:
    """What beat sends every interval, sent now so a round needs no wait for the next tick."""
    from kombu import Connection

    from portal.celery import app

    with Connection(stack.redis.url(0)) as conn:
        app.send_task("mining.tasks.sync_fanout", connection=conn)


def mid_sync(stack: Stack, provider_id: int, timeout_s: float = 30) -> dict:
    """Start a cycle and return the moment some account's sync holds its lease (a sync in progress)."""
    fanout(stack)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        seen = sample(provider_id) or {}
        if any(token for _, token, _, _, _ in seen.values()):
            return seen
        time.sleep(0.02)
    raise RuntimeError("no sync started within 30 s of a fan-out")


def observe(provider_id: int, before: dict, fault_at: float, fault_end_wall, fault_end: float,
            limit_s: float) -> dict:
    """Watch until every account has synced after the fault's end: who was stuck, how long, what they were shown."""
    from django.utils import timezone

    interrupted = {pk for pk, row in before.items() if row[1]}
    stuck, shown_in_step, recovered_at, resynced_at = set(), set(), {}, {}
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        seen = sample(provider_id)
        t = time.monotonic()
        if seen is None:
            time.sleep(0.25)
            continue
        now = timezone.now()
        for pk, (last, token, until, status, label) in seen.items():
            previous = before.get(pk, (None,))[0]
            done = last is not None and last != previous and not token
            if done and pk not in resynced_at:
                resynced_at[pk] = t
            dead_lease = bool(token) and until is not None and until < now
            if not done and (dead_lease or status in ("failed", "retrying")):
                stuck.add(pk)
            if not done and (pk in interrupted or pk in stuck) and label == "In step":
                shown_in_step.add(pk)
            if last is not None and last > fault_end_wall and not token and pk not in recovered_at:
                recovered_at[pk] = t
        if len(recovered_at) == len(seen):
            break
        time.sleep(0.25)
    # A sync the fault caught but that finished within moments of the fault's end was delayed, not stuck.
    stuck |= {pk for pk in interrupted if resynced_at.get(pk, time.monotonic()) > fault_end + STUCK_AFTER_S}
    stuck_s = [resynced_at.get(pk, time.monotonic()) - fault_at for pk in stuck]
    return {
        "interrupted": len(interrupted),
        "stuck": len(stuck),
        "stuck_max_s": round(max(stuck_s), 1) if stuck_s else 0.0,
        "shown_in_step_while_stuck": len(shown_in_step),
        "recovered": len(recovered_at) == len(before),
        "recovery_s": round(max(recovered_at.values()) - fault_end, 1) if len(recovered_at) == len(before) else None,
    }


# --- the experiments: each returns (fault_at, fault_end, before, notes) --------------------------------------

def worker_kill(stack: Stack, provider_id: int) -> tuple:
    mid_sync(stack, provider_id)
    time.sleep(random.uniform(0.0, 0.4))
    before = sample(provider_id)
    name = random.choice(["worker-a", "worker-b"])
    fault_at = time.monotonic()
    stack.services[name].kill()
    stack.start_worker(name)  # a restart policy's job
    return fault_at, time.monotonic(), before, {"killed": name}


def redis_kill(stack: Stack, provider_id: int) -> tuple:
    mid_sync(stack, provider_id)
    time.sleep(random.uniform(0.0, 0.3))
    before = sample(provider_id)
    fault_at = time.monotonic()
    stack.redis.kill()
    time.sleep(2.0)
    stack.redis.start()
    end = time.monotonic()
    time.sleep(3.0)  # long enough for a worker that cannot survive its broker to die of it
    died = [n for n in ("worker-a", "worker-b", "notify") if not stack.services[n].alive]
    for name in died:
        stack.start_worker(name, queue="notify" if name == "notify" else "celery")
    return fault_at, end, before, {"workers_died": died}


def pg_stop(stack: Stack, provider_id: int, down_s: float) -> tuple:
    # A slow rewards answer keeps every sync in flight past the first second, whatever the fleet's size.
    stack.control("POST", "/_sandbox/faults", {"endpoint": "/api/v4/mining/rewards", "fault": "hang",
                                               "count": stack.accounts, "hang_s": 2.5})
    mid_sync(stack, provider_id)
    time.sleep(1.0)
    before = sample(provider_id)
    fault_at = time.monotonic()
    if stack.pg.private:
        stack.pg.stop_immediate()
        time.sleep(down_s)
        stack.pg.start()
        notes = {"fault": f"pg_ctl -m immediate stop, {down_s:.0f}s down"}
    else:
        notes = {"fault": "pg_terminate_backend", "connections_cut": stack.pg.terminate_backends()}
    return fault_at, time.monotonic(), before, notes


POOL_FAULTS = ("500", "503", "hang", "malformed_json")


def pool_faults(stack: Stack, provider_id: int, kind: str) -> tuple:
    before = sample(provider_id)
    fault_at = time.monotonic()
    # More faults than the client's own retries absorb, so some datasets fail and the task's retry must finish them.
    body = {"endpoint": "*", "fault": kind, "count": (2 if kind == "hang" else 6) * stack.accounts}
    if kind == "hang":
        body["hang_s"] = 6  # above the client's 4 s timeout: every such request times out
    stack.control("POST", "/_sandbox/faults", body)
    before = mid_sync(stack, provider_id)
    wait_until(lambda: not stack.control("GET", "/_sandbox/faults").get("faults"), 120, "the pool faults to be served")
    return fault_at, time.monotonic(), before, {"fault": f"{kind} x{body['count']}"}


# --- lost and doubled: the data against the pool's own answers ---------------------------------------------

def rows(provider_id: int, since) -> dict[str, Counter]:
    from mining.models import AccountHashrateSample, Reward, Worker, WorkerHashrateSample

    return {
        "rewards": Counter(Reward.objects.filter(provider_id=provider_id).values_list(
            "account__name", "date", "total_reward_sats", "reward_sats", "fee_sats", "status", "payout_tx_hash")),
        "workers": Counter(Worker.objects.filter(provider_id=provider_id).values_list("account__name", "name")),
        "hashrate_points": Counter(AccountHashrateSample.objects.filter(provider_id=provider_id, at__gte=since)
                                   .values_list("account__name", "interval", "at", "hashrate_hs")),
        "worker_points": Counter(WorkerHashrateSample.objects.filter(provider_id=provider_id, at__gte=since)
                                 .values_list("account__name", "worker__name", "at", "hashrate_hs")),
    }


def provider_make(stack: Stack, slug: str):
    from mining.models import MiningAccount
    from mining.services.accounts import mining_account_assign, mining_accounts_import
    from mining.upstream import client_for_provider
    from tenants import services
    from tenants.access import scope_for_system

    provider = services.provider_create(name=f"Chaos {slug}", slug=slug, upstream_base_url=stack.base_url,
                                        api_key=KEY, api_secret=SECRET)
    customer = services.customer_create(provider=provider, name="Miner Co", slug="miner-co",
                                        contact_emails=["ops@miner.example"])
    scope = scope_for_system(provider_id=provider.pk)
    accounts, _ = mining_accounts_import(scope=scope, upstream=list(client_for_provider(provider).accounts_iter()))
    for account in accounts:
        mining_account_assign(scope=scope, account_id=account.pk, customer_id=customer.pk)
    return provider, list(MiningAccount.objects.filter(provider=provider))


def compare_with_pool(stack: Stack, provider_id: int) -> dict:
    """Sync a fresh provider over the same pool accounts (no faults now) and compare every row."""
    from mining.models import MiningAccount
    from mining.services.sync import mining_account_sync

    stack.control("DELETE", "/_sandbox/faults")
    wait_until(lambda: settled(provider_id), 180, "the fleet to settle before the comparison", every_s=0.5)
    reference, accounts = provider_make(stack, f"ref-{uuid.uuid4().hex[:6]}")
    for account in accounts:
        mining_account_sync(provider_id=reference.pk, account_id=account.pk, raise_retryable=False)
    wait_until(lambda: settled(reference.pk), 120, "the reference provider's sync", every_s=0.5)
    MiningAccount.objects.filter(provider=reference).update(is_active=False)  # not synced by later cycles
    since = stack.data_now - timedelta(hours=20)
    ours, pool = rows(provider_id, since), rows(reference.pk, since)
    lost = {k: sum((pool[k] - ours[k]).values()) for k in ours}
    doubled = {k: sum((ours[k] - pool[k]).values()) for k in ours}
    return {"lost": lost, "doubled": doubled, "compared": {k: sum(v.values()) for k, v in pool.items()}}


# --- the run ---------------------------------------------------------------------------------------------------

def run_experiment(stack: Stack, provider_id: int, name: str, rounds: int, args) -> dict:
    limit_s = stack.lease_s + 3 * stack.interval_s + 60
    results = []
    variants = POOL_FAULTS if name == "pool_faults" else [None]
    for round_ in range(rounds):
        for variant in variants:
            wait_until(lambda: settled(provider_id), 180, "the fleet to settle", every_s=0.5)
            if name == "worker_kill":
                fault_at, end, before, notes = worker_kill(stack, provider_id)
            elif name == "redis_kill":
                fault_at, end, before, notes = redis_kill(stack, provider_id)
            elif name == "pg_stop":
                fault_at, end, before, notes = pg_stop(stack, provider_id, args.pg_down_s)
            elif name == "pool_faults":
                fault_at, end, before, notes = pool_faults(stack, provider_id, variant)
            else:
                from scripts.chaos_smtp import smtp_round

                fault_at, end, before, notes = smtp_round(stack, provider_id, round_)
            from django.utils import timezone

            end_wall = timezone.now() - timedelta(seconds=time.monotonic() - end)
            result = {"round": round_ + 1, **notes, **observe(provider_id, before, fault_at, end_wall, end, limit_s)}
            results.append(result)
            print(json.dumps({"experiment": name, **result}), file=sys.stderr, flush=True)
    summary = {"experiment": name, "rounds": results, **compare_with_pool(stack, provider_id)}
    if name == "smtp":
        from scripts.chaos_smtp import smtp_totals

        summary["mail"] = smtp_totals(stack, provider_id)
    return summary


def failures(summary: dict) -> list[str]:
    bad = []
    for kind in ("lost", "doubled"):
        bad += [f"{n} {k} {kind}" for k, n in summary[kind].items() if n]
    for r in summary["rounds"]:
        if r["shown_in_step_while_stuck"]:
            bad.append(f"round {r['round']}: {r['shown_in_step_while_stuck']} stuck account(s) shown In step")
        if not r["recovered"]:
            bad.append(f"round {r['round']}: not every account synced again")
        if r.get("synced_while_mail_failed", r.get("accounts")) != r.get("accounts"):
            bad.append(f"round {r['round']}: only {r['synced_while_mail_failed']} of {r['accounts']} accounts "
                       "synced while the mail server failed")
        if r.get("workers_died"):
            bad.append(f"round {r['round']}: worker(s) died with their broker: {r['workers_died']}")
    mail = summary.get("mail") or {}
    if mail.get("lost") or mail.get("doubled"):
        bad.append(f"mail: {mail.get('lost')} lost, {mail.get('doubled')} doubled")
    return bad


def table(summary: dict) -> str:
    cols = ("round", "fault", "interrupted", "stuck", "stuck_max_s", "shown_in_step_while_stuck", "recovery_s")
    head = ["round", "fault", "mid-sync", "stuck", "stuck max s", "shown In step", "recovery s"]
    lines = [f"== {summary['experiment']} ==", "  ".join(f"{h:>13}" for h in head)]
    for r in summary["rounds"]:
        fault = r.get("fault") or r.get("killed") or r.get("smtp") or ""
        lines.append("  ".join(f"{str(r.get(c, fault) if c != 'fault' else fault)[:13]:>13}" for c in cols))
    lines.append("lost: " + ", ".join(f"{k} {v}" for k, v in summary["lost"].items())
                 + " | doubled: " + ", ".join(f"{k} {v}" for k, v in summary["doubled"].items())
                 + " | rows compared: " + ", ".join(f"{k} {v}" for k, v in summary["compared"].items()))
    if "mail" in summary:
        lines.append("mail: " + ", ".join(f"{k} {v}" for k, v in summary["mail"].items()))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--experiments", default=",".join(EXPERIMENTS))
    parser.add_argument("--interval-s", type=int, default=20, help="MINING_SYNC_INTERVAL_S of the run")
    parser.add_argument("--lease-s", type=int, default=10, help="MINING_SYNC_LEASE_S of the run")
    parser.add_argument("--latency-ms", type=int, default=40, help="the sandbox's added delay per request")
    parser.add_argument("--pg-down-s", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON instead of tables")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs) afterwards")
    args = parser.parse_args()
    chosen = [e.strip() for e in args.experiments.split(",") if e.strip()]
    unknown = set(chosen) - set(EXPERIMENTS)
    if unknown:
        parser.error(f"unknown experiment(s): {', '.join(sorted(unknown))}; choose from {', '.join(EXPERIMENTS)}")
    random.seed(args.seed)
    stack = Stack(accounts=args.accounts, interval_s=args.interval_s, lease_s=args.lease_s,
                  latency_ms=args.latency_ms, keep=args.keep)
    started = time.monotonic()
    try:
        stack.up()
        os.environ.update(stack.env())
        import django

        django.setup()
        provider, _ = provider_make(stack, "chaos")
        summaries = [run_experiment(stack, provider.pk, name, args.rounds, args) for name in chosen]
    finally:
        stack.down()
    bad = [f"{s['experiment']}: {b}" for s in summaries for b in failures(s)]
    report = {"machine": f"{os.cpu_count()} cores", "args": vars(args), "wall_s": round(time.monotonic() - started),
              "private_postgres": stack.pg.private, "logs": str(stack.tmp) if args.keep else None,
              "experiments": summaries, "failures": bad}
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        for s in summaries:
            print(table(s) + "\n")
        print("FAILURES:\n  " + "\n  ".join(bad) if bad else "no row lost or doubled; no stuck account shown In step")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
