"""The sandbox's mutable state: mining accounts, payout-destination timelines, watcher links and request counters.

Why apart from the fleet: the simulated fleet is pure (hashrates and rewards are functions of the seed); what a
client *writes* (accounts it creates, destinations it sets, links it makes) lives here. One lock, owned by the
app and shared with the authentication and fault parts, guards all of it, so the request threads of the threaded
server see one consistent pool.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from mining.whitebit.sandbox.simulation import Fleet

WATCHER_LINK_BASE = "https://whitebit.com/mining-pool/watcher-link/"
# Older than any data clock: the destination a timeline starts with holds for every reward.
TIMELINE_START = -(2**62)


@dataclass
class Account:
    name: str
    created_at: int
    seq: int
    seeded: bool
    fee_percent: str


@dataclass
class WatcherLink:
    id: str
    accounts: list[str]
    name: str
    permissions: list[str]
    live_until: int | None
    created_at: int
    seq: int

    def active(self, now: int) -> bool:
        return self.live_until is None or self.live_until > now

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "accounts": list(self.accounts),
            "name": self.name,
            "link": WATCHER_LINK_BASE + self.id,
            "permissions": list(self.permissions),
            "liveUntil": self.live_until,
            "createdAt": self.created_at,
        }


class Stats:
    """What `GET /_sandbox/stats` reports. Mutated under the shared lock."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.by_endpoint: dict[str, Counter[str]] = defaultdict(Counter)
        self.by_status: Counter[str] = Counter()
        self.rate_limited: Counter[str] = Counter()
        self.nonce_rejected: Counter[str] = Counter()
        self.faults_served: Counter[str] = Counter()

    def count(self, endpoint: str, status: int) -> None:
        self.by_endpoint[endpoint][str(status)] += 1
        self.by_status[str(status)] += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "total": sum(self.by_status.values()),
            "by_status": dict(self.by_status),
            "by_endpoint": {
                ep: {"total": sum(c.values()), "by_status": dict(c)} for ep, c in sorted(self.by_endpoint.items())
            },
            "rate_limited": sum(self.rate_limited.values()),
            "rate_limited_by_endpoint": dict(self.rate_limited),
            "nonce_rejected": sum(self.nonce_rejected.values()),
            "faults_served": dict(self.faults_served),
        }


class PoolState:
    """Accounts (seeded and created), each account's destination timeline, and watcher links.

    Callers take `lock` around reads and writes of `accounts`, `destinations` and `links`; the helper methods
    take it themselves.
    """

    def __init__(self, fleet: Fleet, lock: threading.Lock) -> None:
        self.lock = lock
        self._seq = 0
        self.accounts: dict[str, Account] = {}
        # account -> [(effective_from, destination, address)], oldest first; rewards read it at their settle time.
        self.destinations: dict[str, list[tuple[int, str, str | None]]] = {}
        for seeded in fleet.accounts.values():
            self.accounts[seeded.name] = Account(
                seeded.name, seeded.created_at, self.next_seq(), seeded=True, fee_percent=seeded.fee_percent
            )
            self.destinations[seeded.name] = [(TIMELINE_START, seeded.destination, seeded.address)]
        self.links: list[WatcherLink] = []

    def next_seq(self) -> int:
        """Creation order, breaking ties between objects created in the same data-clock second. Under `lock`."""
        self._seq += 1
        return self._seq

    def account_exists(self, name: str) -> bool:
        with self.lock:
            return name in self.accounts

    def destination_at(self, account: str, when: int) -> tuple[str, str | None]:
        with self.lock:
            timeline = self.destinations.get(account, [(0, "main_balance", None)])
            current = timeline[0]
            for entry in timeline:
                if entry[0] <= when:
                    current = entry
            return current[1], current[2]

    def current_destination(self, account: str) -> tuple[str, str | None]:
        with self.lock:
            _, destination, address = self.destinations[account][-1]
        return destination, address
