"""The one set of options every Celery task of the product is declared with (mining, billing, tenants).

Why these: `acks_late` with `reject_on_worker_lost` leaves the message in the broker when a worker is killed
mid-task, so the task runs again instead of being lost (every task is idempotent for that reason: leases,
claims and upserts); `ignore_result` because nothing reads task results (outcomes are rows in the database).
"""

from __future__ import annotations

from typing import Any

TASK_OPTIONS: dict[str, Any] = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}
