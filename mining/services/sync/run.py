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

from mining.models import AccountAssignment, MiningAccount, SyncDataset, SyncState
from mining.services.upsert import RowCounts
from mining.whitebit.client import WhiteBitClient


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
    assignments: list[AccountAssignment] = field(default_factory=list)

    def lock_owner(self) -> None:
        """Call first inside each dataset's transaction: lock the account row, re-read who held it when."""
        MiningAccount.objects.select_for_update().filter(pk=self.account.pk).values_list("pk", flat=True).get()
        self.assignments = list(AccountAssignment.objects.filter(account_id=self.account.pk))

    def customer_on(self, day: date) -> int | None:
        for assignment in self.assignments:
            if assignment.covers(day):
                return assignment.customer_id
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


def state_success(state: SyncState, *, now: datetime, counts: RowCounts, watermark_at: datetime | None) -> None:
    state.last_attempt_at = now
    state.last_success_at = now
    state.last_error = ""
    state.consecutive_failures = 0
    state.rows_created, state.rows_updated, state.rows_unchanged = counts.created, counts.updated, counts.unchanged
    if watermark_at is not None and (state.watermark_at is None or watermark_at > state.watermark_at):
        state.watermark_at = watermark_at
    state.save(update_fields=[
        "last_attempt_at", "last_success_at", "last_error", "consecutive_failures", "rows_created", "rows_updated",
        "rows_unchanged", "watermark_at",
    ])
