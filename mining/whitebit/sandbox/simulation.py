"""The sandbox's simulated fleet: a pure, seeded function of (seed, account, worker, time bucket).

Nothing is precomputed or stored. Every value is derived from a BLAKE2b hash of its coordinates, so the same
question always gets the same answer (across requests, processes and restarts) and a request costs only the buckets
it asks for. Hour and day sums are memoised because they are pure.

Agreement rules (what the property tests check, exactly, with no rounding anywhere):

* A worker's **5-minute point** is an integer number of H/s and a multiple of 9 (`HASHRATE_QUANTUM`).
* An **hour point** is the exact mean of the hour's twelve 5-minute points: `Decimal(sum) / 12`. Because the sum is
  a multiple of 9 the quotient terminates (at most 2 decimals).
* A **24-hour point** is the exact mean of the day's 288 5-minute points, which equals the mean of its 24 hour
  points (at most 5 decimals).
* An **account point** is the exact sum of its workers' points at the same bucket and interval (sums commute with
  the means above, so account hour = mean of account 5-minute points as well).
* `rejectRate` of a point is rejected / accepted hashrate over the same workers and 5-minute points, rounded to 4
  decimals (it is a ratio, not an amount; it is the only rounded value).
* Buckets are labelled by their **start** and are reported only once **complete** (`start + interval <= now`) and
  not before the fleet's data epoch (`history_days` before the anchor day).
* A **daily reward** for day D (UTC midnight, the reward's `date`) exists once the day is complete. `hashRate` is
  the account's 24-hour point for D; `totalReward` = floor to the satoshi of `hashRate × fppsRate / 10^15`
  (`fppsRate` is BTC per PH/s per day, varying ±5 % by day); `fee` = `totalReward × fee% / 100` rounded half-up
  to the satoshi; `reward` = `totalReward − fee`. All three are exact 8-decimal strings.
* Status: `pending` until `settle_at` (D + 2 days + 0–6 h), then `successful`, or `canceled` for ~2 % of rewards.
  External-address payouts get a 64-hex transaction hash and `payoutTime = settle_at` once successful.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, Inexact
from functools import lru_cache

from mining.whitebit.sandbox.btc_address import segwit_encode

FIVE_MINUTES = 300
HOUR = 3600
DAY = 86400
INTERVAL_SECONDS = {"5m": FIVE_MINUTES, "1h": HOUR, "24h": DAY}
POINTS_PER_BUCKET = {"5m": 1, "1h": 12, "24h": 288}
HASHRATE_QUANTUM = 9
SATS_PER_BTC = 100_000_000
H_PER_PH = 10**15
STATE_SLOT_HOURS = 3
FEE_CHOICES = ("2.5", "2", "1.5", "3")
REJECT_RATE_PLACES = Decimal("0.0001")
_EXACT = Context(prec=80, traps=[Inexact])
_SAT = Decimal(1).scaleb(-8)


def _digest(seed: int, *parts: object) -> bytes:
    text = "|".join([str(seed), *(str(p) for p in parts)])
    return hashlib.blake2b(text.encode("utf-8"), digest_size=64, person=b"wb-sandbox").digest()


def _uint(seed: int, *parts: object) -> int:
    return int.from_bytes(_digest(seed, *parts)[:8], "big")


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
    return 90 * 10**12 + _uint(seed, account, worker, "nominal") % (160 * 10**12 + 1)


@lru_cache(maxsize=65536)
def worker_reject_ppm(seed: int, account: str, worker: str) -> int:
    """Typical reject rate, 0.1 %–2 % in parts per million."""
    return 1_000 + _uint(seed, account, worker, "reject") % 19_001


@lru_cache(maxsize=262144)
def worker_state(seed: int, account: str, worker: str, slot: int) -> str:
    """'online', 'low' or 'offline' for a 3-hour slot: outages and degraded periods that end by themselves."""
    roll = _uint(seed, account, worker, "state", slot) % 1000
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
    raw = _digest(seed, account, worker, "5m", hour)
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
    return base_sats * (950 + _uint(seed, "fpps", day) % 101) // 1000


# ---- the fleet ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeededAccount:
    name: str
    index: int
    created_at: int
    fee_percent: str
    workers: tuple[str, ...]
    destination: str  # initial payout destination: 'main_balance' or 'external_address'
    address: str | None

    @property
    def fee_bp(self) -> int:
        return int(Decimal(self.fee_percent) * 100)


@dataclass(frozen=True)
class HashratePoint:
    timestamp: int
    hashrate_hs: Decimal
    reject_rate: Decimal


@dataclass(frozen=True)
class DailyReward:
    account: str
    date: int
    hashrate_hs: Decimal
    fpps_rate_sats_per_ph: int
    total_sats: int
    fee_sats: int
    settle_at: int
    canceled: bool
    tx_hash: str

    @property
    def reward_sats(self) -> int:
        return self.total_sats - self.fee_sats

    def status(self, now: int) -> str:
        if now < self.settle_at:
            return "pending"
        return "canceled" if self.canceled else "successful"


def floor_to(ts: int, step: int) -> int:
    return ts - ts % step


def ceil_to(ts: int, step: int) -> int:
    return -(-ts // step) * step


class Fleet:
    """The seeded accounts and their workers. Stateless apart from construction; safe to share between threads.

    `anchor` fixes the data epoch (`history_days` before the anchor's UTC midnight), so moving the data clock later
    adds data after the anchor and never changes what was already reported.
    """

    def __init__(
        self,
        *,
        seed: int,
        accounts: int,
        workers: int,
        history_days: int,
        anchor: datetime,
        fpps_btc_per_ph_day: Decimal = Decimal("0.005"),
    ) -> None:
        self.seed = seed
        self.epoch = floor_to(int(anchor.timestamp()), DAY) - history_days * DAY
        # daily_reward is pure for a constructed fleet; re-reads (every sync re-reads its overlap) hit this.
        self._reward_cache: dict[tuple[str, int], DailyReward | None] = {}
        # (account, worker) -> (state, since): states set through the control plane (`POST /_sandbox/workers`).
        # Replaced whole on every change (copy on write), so request threads read it without a lock.
        self._overrides: dict[tuple[str, str], tuple[str, int]] = {}
        base = fpps_btc_per_ph_day * SATS_PER_BTC
        if base != base.to_integral_value():
            raise ValueError("fpps_btc_per_ph_day must be a whole number of satoshis")
        self.fpps_base_sats = int(base)
        width = max(3, len(str(accounts)))
        worker_width = max(3, len(str(workers)))
        worker_names = tuple(f"worker_{j:0{worker_width}d}" for j in range(1, workers + 1))
        self.accounts: dict[str, SeededAccount] = {}
        for i in range(1, accounts + 1):
            name = f"acct_{i:0{width}d}"
            created_at = self.epoch - (accounts - i + 1) * DAY + _uint(seed, name, "created") % (DAY // 2)
            fee = FEE_CHOICES[_uint(seed, name, "fee") % len(FEE_CHOICES)]
            external = i % 2 == 0
            address = segwit_encode(0, _digest(seed, name, "address")[:20]) if external else None
            self.accounts[name] = SeededAccount(
                name=name,
                index=i,
                created_at=created_at,
                fee_percent=fee,
                workers=worker_names,
                destination="external_address" if external else "main_balance",
                address=address,
            )

    # -- hashrate --

    def bucket_starts(self, interval: str, start: int, end: int, now: int) -> range:
        """Starts of the complete buckets with `start <= t <= end`, not before the epoch, oldest first."""
        step = INTERVAL_SECONDS[interval]
        first = ceil_to(max(start, self.epoch), step)
        last = min(floor_to(end, step), floor_to(now, step) - step)
        return range(first, last + 1, step) if last >= first else range(0)

    def latest_bucket_start(self, interval: str, end: int, now: int) -> int:
        step = INTERVAL_SECONDS[interval]
        return min(floor_to(end, step), floor_to(now, step) - step)

    def worker_points(self, account: str, worker: str, interval: str, starts: Sequence[int]) -> list[HashratePoint]:
        if account not in self.accounts or worker not in self.accounts[account].workers:
            return []
        return [self._point(account, (worker,), interval, t) for t in starts]

    def account_points(self, account: str, interval: str, starts: Sequence[int]) -> list[HashratePoint]:
        seeded = self.accounts.get(account)
        if seeded is None or not seeded.workers:
            return []
        return [self._point(account, seeded.workers, interval, t) for t in starts]

    def _point(self, account: str, workers: Sequence[str], interval: str, start: int) -> HashratePoint:
        total = 0
        rejected = 0
        for worker in workers:
            accepted_sum, rejected_sum = self._worker_sums(account, worker, interval, start)
            total += accepted_sum
            rejected += rejected_sum
        rate = (
            (Decimal(rejected) / Decimal(total)).quantize(REJECT_RATE_PLACES, ROUND_HALF_EVEN) if total else Decimal(0)
        )
        return HashratePoint(start, exact_mean(total, POINTS_PER_BUCKET[interval]), rate)

    def worker_status(self, account: str, worker: str, now: int) -> str:
        """Status from the latest complete 5-minute bucket: what a pool dashboard shows right now."""
        last = floor_to(now, FIVE_MINUTES) - FIVE_MINUTES
        return self._override_at(account, worker, last) or worker_state(
            self.seed, account, worker, (last // HOUR) // STATE_SLOT_HOURS)

    # -- states set through the control plane --

    def worker_state_set(self, account: str, worker: str, state: str, since: int) -> None:
        """From `since` (floored to the hour) on, the worker is in `state`: its points, its status, its account's
        points and the rewards of the days it touches follow. Everything before `since` stays as simulated."""
        if state not in WORKER_STATES:
            raise ValueError(f"unknown state {state!r}")
        overrides = dict(self._overrides)
        overrides[(account, worker)] = (state, floor_to(since, HOUR))
        self._overrides = overrides
        self._reward_cache = {k: v for k, v in self._reward_cache.items() if k[0] != account}

    def worker_states_clear(self) -> None:
        """Back to the pure simulation."""
        self._overrides = {}
        self._reward_cache = {}

    def worker_states_set(self) -> dict[tuple[str, str], tuple[str, int]]:
        return dict(self._overrides)

    def _override_at(self, account: str, worker: str, ts: int) -> str | None:
        override = self._overrides.get((account, worker))
        return override[0] if override is not None and ts >= override[1] else None

    def _worker_hour(self, account: str, worker: str, hour: int) -> HourSample:
        return worker_hour(self.seed, account, worker, hour, self._override_at(account, worker, hour * HOUR))

    def _worker_sums(self, account: str, worker: str, interval: str, start: int) -> tuple[int, int]:
        override = self._overrides.get((account, worker))
        if override is None or start + INTERVAL_SECONDS[interval] <= override[1]:
            return worker_bucket_sums(self.seed, account, worker, interval, start)
        if interval == "24h":
            samples = [self._worker_hour(account, worker, h) for h in range(start // HOUR, start // HOUR + 24)]
            return sum(s.total for s in samples), sum(s.rejected_total for s in samples)
        sample = self._worker_hour(account, worker, start // HOUR)
        if interval == "1h":
            return sample.total, sample.rejected_total
        idx = (start % HOUR) // FIVE_MINUTES
        return sample.points[idx], sample.rejected[idx]

    def stratum_port(self, account: str, worker: str) -> int:
        return 3334 if _uint(self.seed, account, worker, "stratum") % 3 == 0 else 3333

    # -- rewards --

    def daily_reward(self, account: str, day: int) -> DailyReward | None:
        """The reward for UTC day `day` regardless of the clock; None for accounts or days without hashrate."""
        key = (account, day)
        if key not in self._reward_cache:
            self._reward_cache[key] = self._daily_reward(account, day)
        return self._reward_cache[key]

    def _daily_reward(self, account: str, day: int) -> DailyReward | None:
        seeded = self.accounts.get(account)
        if seeded is None or day < self.epoch or day % DAY:
            return None
        total_hs = sum(self._worker_sums(account, w, "24h", day)[0] for w in seeded.workers)
        if total_hs == 0:
            return None
        rate = fpps_rate_sats_per_ph(self.seed, day, self.fpps_base_sats)
        total_sats = total_hs * rate // (POINTS_PER_BUCKET["24h"] * H_PER_PH)
        fee_sats = (total_sats * seeded.fee_bp + 5_000) // 10_000
        roll = _uint(self.seed, account, day, "settle")
        return DailyReward(
            account=account,
            date=day,
            hashrate_hs=exact_mean(total_hs, POINTS_PER_BUCKET["24h"]),
            fpps_rate_sats_per_ph=rate,
            total_sats=total_sats,
            fee_sats=fee_sats,
            settle_at=day + 2 * DAY + roll % (6 * HOUR),
            canceled=(roll >> 32) % 100 < 2,
            tx_hash=_digest(self.seed, account, day, "tx")[:32].hex(),
        )

    def rewards(self, accounts: Sequence[str], start: int | None, end: int, now: int) -> Iterator[DailyReward]:
        """Rewards dated `start <= date <= end` that exist at `now`: newest date first, then account name."""
        names = sorted(a for a in accounts if a in self.accounts)
        last = min(floor_to(end, DAY), floor_to(now, DAY) - DAY)
        first = ceil_to(max(start if start is not None else self.epoch, self.epoch), DAY)
        for day in range(last, first - 1, -DAY):
            for name in names:
                reward = self.daily_reward(name, day)
                if reward is not None:
                    yield reward
