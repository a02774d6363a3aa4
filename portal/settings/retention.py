"""Retention: what is pruned after how long (docs/OPERATIONS.md "Retention"); beat runs it daily."""

from __future__ import annotations

from pathlib import Path

from portal.settings.base import VAR_DIR, env

RETENTION_OUTBOX_SENT_DAYS = env.int("RETENTION_OUTBOX_SENT_DAYS", default=90)
RETENTION_OUTBOX_FAILED_DAYS = env.int("RETENTION_OUTBOX_FAILED_DAYS", default=180)
RETENTION_IDEMPOTENCY_DAYS = env.int("RETENTION_IDEMPOTENCY_DAYS", default=30)
RETENTION_LOGIN_ATTEMPTS_DAYS = env.int("RETENTION_LOGIN_ATTEMPTS_DAYS", default=30)
RETENTION_EXPORT_DAYS = env.int("RETENTION_EXPORT_DAYS", default=90)
RETENTION_AUDIT_ARCHIVE_AFTER_DAYS = env.int("RETENTION_AUDIT_ARCHIVE_AFTER_DAYS", default=400)
RETENTION_AUDIT_ARCHIVE_DIR = Path(env.str("RETENTION_AUDIT_ARCHIVE_DIR", default=str(VAR_DIR / "archive" / "audit")))
