"""What one account's sync carries from dataset to dataset, and who owns each row it writes.

Ownership is resolved per row, under the account's row lock, from the dated assignments: a row dated on a day
belongs to the customer who held the account that day. The lock is the same one `mining_account_assign` takes,
so a reassignment and a dataset write never interleave, and a late re-read of old days still lands with the
customer who held those days.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection

from mining.models import MiningAccount, SyncDataset, SyncState
from mining.services.upsert import RowCounts
from mining.whitebit.client import WhiteBitClient


class LeaseLost(Exception):
    """The lease is not ours any more: another worker claimed the account after ours expired."""


# The account row's fields re-read under its lock: a user may be changing the payout destination right now.
LOCKED_FIELDS = ("sync_lease_token", "payout_destination", "payout_address", "upstream_payout_destination",
                 "upstream_payout_address", "payout_drift_detected_at")


@dataclass
class SyncReport:
    """What one or many account syncs did; `sync_accounts --json` prints it."""

    accounts_synced: int = 0
    accounts_skipped: int = 0
    accounts_failed: int = 0
    rows: dict[str, RowCounts] = field(default_factory=dict)
    requests: Counter = field(default_factory=Counter)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def count(self, model_name: str, counts: RowCounts) -> None:
        self.rows.setdefault(model_name, RowCounts()).add(counts)

    def merge(self, other: SyncReport) -> None:
        self.accounts_synced += other.accounts_synced
        self.accounts_skipped += other.accounts_skipped
        self.accounts_failed += other.accounts_failed
        for name, counts in other.rows.items():
            self.count(name, counts)
        self.requests.update(other.requests)
        self.errors.extend(other.errors)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accounts": {
                "synced": self.accounts_synced,
                "skipped_busy": self.accounts_skipped,
                "failed": self.accounts_failed,
            },
            "rows": {name: c.as_dict() for name, c in sorted(self.rows.items())},
            "requests": dict(sorted(self.requests.items())),
            "errors": self.errors,
        }


@dataclass
class SyncRun:
    """One account's sync in progress: the client, the account, the report, the clock, its SyncState rows."""

    client: WhiteBitClient
    account: MiningAccount
    report: SyncReport
    clock: Callable[[], datetime]
    states: dict[str, SyncState] = field(default_factory=dict)
    # (customer_id, valid_from, valid_to) of each dated assignment, read under the lock
    assignments: list[tuple[int | None, date | None, date | None]] = field(default_factory=list)
    dirty_states: set[str] = field(default_factory=set)
    locked: dict[str, Any] = field(default_factory=dict)  # the account row's LOCKED_FIELDS, read under the lock
    dataset: str = ""  # the dataset being read or written (a failure is reported on it)
    workers_offline: bool = False  # set by the workers dataset: a time-based alert (worker offline) may be due

    def lock_owner(self, *, lease_token: str | None = None) -> dict[str, Any]:
        """Call first inside each write transaction: lock the account row and re-read, in the same statement, who
        held it when and the fields a user may be changing meanwhile (the payout destination).

        With `lease_token`, the lease must still be ours (else `LeaseLost`): a sync whose lease another worker
        took over while it was reading the pool writes nothing.
        """
        rows = list(
            MiningAccount.objects.select_for_update(of=("self",)).filter(pk=self.account.pk)
            .values(*LOCKED_FIELDS, "assignments__id", "assignments__customer_id", "assignments__valid_from",
                    "assignments__valid_to")
        )
        if not rows or (lease_token is not None and rows[0]["sync_lease_token"] != lease_token):
            raise LeaseLost
        self.locked = {k: rows[0][k] for k in LOCKED_FIELDS}
        self.assignments = [(r["assignments__customer_id"], r["assignments__valid_from"], r["assignments__valid_to"])
                            for r in rows if r["assignments__id"] is not None]
        return self.locked

    def customer_on(self, day: date) -> int | None:
        for customer_id, valid_from, valid_to in self.assignments:
            if (valid_from is None or valid_from <= day) and (valid_to is None or day < valid_to):
                return customer_id
        return None

    def owner_on(self, day: date) -> dict[str, Any]:
        """provider/customer keys for a row dated `day` (UTC)."""
        return {"provider_id": self.account.provider_id, "customer_id": self.customer_on(day)}

    def owner_at(self, at: datetime) -> dict[str, Any]:
        return self.owner_on(at.astimezone(UTC).date())

    def state(self, dataset: str) -> SyncState:
        if not self.states:
            existing = {s.dataset: s for s in SyncState.objects.filter(account=self.account)}
            missing = [d for d in SyncDataset.values if d not in existing]
            if missing:
                # Undated bookkeeping: owned by the account's current holder, read fresh.
                holder = MiningAccount.objects.filter(pk=self.account.pk).values_list("customer_id", flat=True).get()
                SyncState.objects.bulk_create(
                    [SyncState(account=self.account, dataset=d, provider_id=self.account.provider_id,
                               customer_id=holder) for d in missing],
                    ignore_conflicts=True,
                )
                existing = {s.dataset: s for s in SyncState.objects.filter(account=self.account)}
            self.states = existing
        return self.states[dataset]


def quantize(value: Decimal | None, places: Decimal) -> Decimal | None:
    return None if value is None else value.quantize(places)


STATE_FIELDS = ["last_attempt_at", "last_success_at", "last_error", "consecutive_failures", "rows_created",
                "rows_updated", "rows_unchanged", "watermark_at"]


def state_done(run: SyncRun, dataset: str, *, now: datetime, counts: RowCounts,
               watermark_at: datetime | None) -> None:
    """Record a dataset's success on its SyncState in memory; `states_flush` writes every one in one statement,
    in the same transaction as the rows they cover."""
    _state_apply(run.state(dataset), now=now, counts=counts, watermark_at=watermark_at)
    run.dirty_states.add(dataset)


_STATE_TYPES = {"last_attempt_at": "timestamptz", "last_success_at": "timestamptz", "last_error": "text",
                "consecutive_failures": "integer", "rows_created": "integer", "rows_updated": "integer",
                "rows_unchanged": "integer", "watermark_at": "timestamptz"}


def states_flush(run: SyncRun) -> None:
    """Write every SyncState recorded since the last flush in one UPDATE ... FROM (VALUES ...): one round trip, and
    none of the per-field CASE expressions Django's bulk_update builds (they cost more CPU than the write)."""
    if not run.dirty_states:
        return
    states = [run.states[d] for d in sorted(run.dirty_states)]
    cast = ", ".join(f"%s::{_STATE_TYPES[f]}" for f in STATE_FIELDS)
    table = SyncState._meta.db_table
    sets = ", ".join(f'"{f}" = v."{f}"' for f in STATE_FIELDS)
    columns = ", ".join(f'"{f}"' for f in STATE_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" AS s SET {sets} FROM (VALUES {", ".join(f"(%s::bigint, {cast})" for _ in states)}) '  # noqa: S608
            f'AS v(id, {columns}) WHERE s.id = v.id',
            [value for state in states for value in (state.pk, *(getattr(state, f) for f in STATE_FIELDS))],
        )
    run.dirty_states.clear()


def _state_apply(state: SyncState, *, now: datetime, counts: RowCounts, watermark_at: datetime | None) -> None:
    state.last_attempt_at = now
    state.last_success_at = now
    state.last_error = ""
    state.consecutive_failures = 0
    state.rows_created, state.rows_updated, state.rows_unchanged = counts.created, counts.updated, counts.unchanged
    if watermark_at is not None and (state.watermark_at is None or watermark_at > state.watermark_at):
        state.watermark_at = watermark_at


def state_success(state: SyncState, *, now: datetime, counts: RowCounts, watermark_at: datetime | None) -> None:
    _state_apply(state, now=now, counts=counts, watermark_at=watermark_at)
    state.save(update_fields=STATE_FIELDS)
