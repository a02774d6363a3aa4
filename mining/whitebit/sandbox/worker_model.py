"""One worker's simulated behaviour: a pure, memoised function of (seed, account, worker, time bucket).

Why apart from the fleet (`simulation.py`): these functions are the hash-derived ground truth the agreement rules
are about (5-minute points are multiples of `HASHRATE_QUANTUM`, hours and days are exact means of them); the fleet
composes them into accounts, points and rewards. Also the time units and the pool's decimal spellings
(`hs_str`, `btc_str`) every part of the sandbox shares.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Context, Decimal, Inexact
from functools import lru_cache

FIVE_MINUTES = 300
HOUR = 3600
DAY = 86400
INTERVAL_SECONDS = {"5m": FIVE_MINUTES, "1h": HOUR, "24h": DAY}
POINTS_PER_BUCKET = {"5m": 1, "1h": 12, "24h": 288}
HASHRATE_QUANTUM = 9
STATE_SLOT_HOURS = 3
_EXACT = Context(prec=80, traps=[Inexact])


def digest(seed: int, *parts: object) -> bytes:
    """64 bytes of BLAKE2b over the coordinates: the sandbox's only source of variety."""
    text = "|".join([str(seed), *(str(p) for p in parts)])
    return hashlib.blake2b(text.encode("utf-8"), digest_size=64, person=b"wb-sandbox").digest()


def uint(seed: int, *parts: object) -> int:
    return int.from_bytes(digest(seed, *parts)[:8], "big")


def exact_mean(total: int, count: int) -> Decimal:
    """`total / count` as an exact Decimal; raises `decimal.Inexact` if the quotient does not terminate."""
    return _EXACT.divide(Decimal(total), Decimal(count))


def hs_str(value: Decimal | int) -> str:
    """Plain decimal notation (never exponent form), as the pool's decimal strings are."""
    return format(Decimal(value), "f")


def btc_str(sats: int) -> str:
    """An exact 8-decimal BTC string for an integer of satoshis."""
    return format(Decimal(sats).scaleb(-8), "f")


# ---- per-worker pure functions (memoised; arguments are the complete key) -------------------------------------


@lru_cache(maxsize=65536)
def worker_nominal_hs(seed: int, account: str, worker: str) -> int:
    """The worker's rated hashrate: an ASIC between 90 and 250 TH/s."""
    return 90 * 10**12 + uint(seed, account, worker, "nominal") % (160 * 10**12 + 1)


@lru_cache(maxsize=65536)
def worker_reject_ppm(seed: int, account: str, worker: str) -> int:
    """Typical reject rate, 0.1 %–2 % in parts per million."""
    return 1_000 + uint(seed, account, worker, "reject") % 19_001


@lru_cache(maxsize=262144)
def worker_state(seed: int, account: str, worker: str, slot: int) -> str:
    """'online', 'low' or 'offline' for a 3-hour slot: outages and degraded periods that end by themselves."""
    roll = uint(seed, account, worker, "state", slot) % 1000
    if roll < 60:
        return "offline"
    if roll < 140:
        return "low"
    return "online"


@dataclass(frozen=True)
class HourSample:
    points: tuple[int, ...]  # twelve 5-minute accepted hashrates, H/s
    rejected: tuple[int, ...]  # twelve 5-minute rejected hashrates, H/s
    total: int
    rejected_total: int


WORKER_STATES = ("online", "low", "zero", "offline")
# miners/info's groups: a `zero` worker (connected, listed, at 0 H/s) is one the pool counts online.
POOL_COUNT_OF_STATE = {"online": "online", "zero": "online", "low": "low", "offline": "offline"}


@lru_cache(maxsize=262144)
def worker_hour(seed: int, account: str, worker: str, hour: int, state: str | None = None) -> HourSample:
    """The twelve 5-minute points of hour index `hour` (= unix time // 3600), from a single hash.

    `state` replaces the simulated state of the hour (the control plane's `POST /_sandbox/workers`); the noise is
    the same, so an overridden worker keeps its own character.
    """
    state = state or worker_state(seed, account, worker, hour // STATE_SLOT_HOURS)
    nominal = worker_nominal_hs(seed, account, worker)
    base_ppm = worker_reject_ppm(seed, account, worker) * (3 if state == "low" else 1)
    raw = digest(seed, account, worker, "5m", hour)
    points = []
    rejected = []
    for i in range(12):
        chunk = raw[i * 5 : i * 5 + 5]
        noise = int.from_bytes(chunk[:3], "big")
        if state in ("offline", "zero"):
            value = 0
        elif state == "low":
            value = nominal * (300_000 + noise % 300_001) // 1_000_000
        else:
            value = nominal * (960_000 + noise % 80_001) // 1_000_000
        value -= value % HASHRATE_QUANTUM
        ppm = base_ppm * (50 + int.from_bytes(chunk[3:], "big") % 101) // 100
        points.append(value)
        rejected.append(value * ppm // 1_000_000)
    return HourSample(tuple(points), tuple(rejected), sum(points), sum(rejected))


@lru_cache(maxsize=1 << 20)
def worker_day(seed: int, account: str, worker: str, day: int) -> tuple[int, int]:
    """(accepted, rejected) sums of the 288 5-minute points of the UTC day starting at `day` (unix seconds)."""
    first_hour = day // HOUR
    total = 0
    rejected = 0
    for hour in range(first_hour, first_hour + 24):
        sample = worker_hour(seed, account, worker, hour)
        total += sample.total
        rejected += sample.rejected_total
    return total, rejected


def worker_bucket_sums(seed: int, account: str, worker: str, interval: str, start: int) -> tuple[int, int]:
    """(accepted, rejected) sums over the 5-minute points inside the bucket starting at `start`."""
    if interval == "5m":
        sample = worker_hour(seed, account, worker, start // HOUR)
        idx = (start % HOUR) // FIVE_MINUTES
        return sample.points[idx], sample.rejected[idx]
    if interval == "1h":
        sample = worker_hour(seed, account, worker, start // HOUR)
        return sample.total, sample.rejected_total
    return worker_day(seed, account, worker, start)


@lru_cache(maxsize=16384)
def fpps_rate_sats_per_ph(seed: int, day: int, base_sats: int) -> int:
    """The day's gross FPPS rate in satoshis per PH/s per day: the base ±5 % (difficulty and fees move it)."""
    return base_sats * (950 + uint(seed, "fpps", day) % 101) // 1000


def floor_to(ts: int, step: int) -> int:
    return ts - ts % step


def ceil_to(ts: int, step: int) -> int:
    return -(-ts // step) * step
