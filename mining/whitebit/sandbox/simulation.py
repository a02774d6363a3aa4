"""The sandbox's simulated fleet: a pure, seeded function of (seed, account, worker, time bucket).

Nothing is precomputed or stored. Every value is derived from a BLAKE2b hash of its coordinates, so the same
question always gets the same answer (across requests, processes and restarts) and a request costs only the buckets
it asks for. Hour and day sums are memoised because they are pure. The per-worker functions and the time units
live in `worker_model.py`; this module composes them into the fleet: accounts, points and rewards.

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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from mining.whitebit.sandbox.btc_address import segwit_encode
from mining.whitebit.sandbox.worker_model import (
    DAY,
    FIVE_MINUTES,
    HOUR,
    INTERVAL_SECONDS,
    POINTS_PER_BUCKET,
    STATE_SLOT_HOURS,
    WORKER_STATES,
    HourSample,
    ceil_to,
    digest,
    exact_mean,
    floor_to,
    fpps_rate_sats_per_ph,
    uint,
    worker_bucket_sums,
    worker_hour,
    worker_state,
)

SATS_PER_BTC = 100_000_000
H_PER_PH = 10**15
FEE_CHOICES = ("2.5", "2", "1.5", "3")
REJECT_RATE_PLACES = Decimal("0.0001")


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
            created_at = self.epoch - (accounts - i + 1) * DAY + uint(seed, name, "created") % (DAY // 2)
            fee = FEE_CHOICES[uint(seed, name, "fee") % len(FEE_CHOICES)]
            external = i % 2 == 0
            address = segwit_encode(0, digest(seed, name, "address")[:20]) if external else None
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
        return 3334 if uint(self.seed, account, worker, "stratum") % 3 == 0 else 3333

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
        roll = uint(self.seed, account, day, "settle")
        return DailyReward(
            account=account,
            date=day,
            hashrate_hs=exact_mean(total_hs, POINTS_PER_BUCKET["24h"]),
            fpps_rate_sats_per_ph=rate,
            total_sats=total_sats,
            fee_sats=fee_sats,
            settle_at=day + 2 * DAY + roll % (6 * HOUR),
            canceled=(roll >> 32) % 100 < 2,
            tx_hash=digest(self.seed, account, day, "tx")[:32].hex(),
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
