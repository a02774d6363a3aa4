"""Bounded growth for the platform's own bookkeeping: what is pruned, after how long, and what is archived first.

Why: every table here grows with use and nothing ever read it back after its purpose ended (a sent e-mail after
the complaint window, an idempotency record after any client could still retry, a login attempt after its
cool-off). Left alone they grow for ever and slow the pages that do read them. Each rule has a default an
operator can change in settings (docs/OPERATIONS.md, "Retention", has the table and the storage arithmetic).

The audit log is the exception: it is evidence, so it is never simply deleted. Months older than
`RETENTION_AUDIT_ARCHIVE_AFTER_DAYS` are written per provider and month to a gzip-compressed CSV under
`RETENTION_AUDIT_ARCHIVE_DIR`, and only once that file is complete on disk (written to a temp name, flushed, renamed)
are the month's rows deleted. A run killed between the two leaves the rows and a complete file; the next run
rewrites the file from the rows (the same content) and deletes them, so no entry is lost or archived twice.

These are platform jobs across every tenant (`UNSCOPED_across_all_tenants`): they return counts, never rows.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import TruncMonth

from tenants.access import UNSCOPED_across_all_tenants
from tenants.exports_safety import safe_csv_writer
from tenants.models import AuditEntry, IdempotencyRecord, OutboundEmail

logger = logging.getLogger(__name__)

AUDIT_ARCHIVE_COLUMNS = (
    "id", "created_at", "provider_id", "customer_id", "actor_kind", "actor_label", "actor_user_id", "actor_token_id",
    "action", "object_type", "object_id", "object_repr", "changes", "ip_address",
)


@dataclass(frozen=True)
class RetentionPolicy:
    """The ages, read from settings once per run so a run applies one consistent policy."""

    outbox_sent_days: int
    outbox_failed_days: int
    idempotency_days: int
    login_attempts_days: int
    audit_archive_after_days: int
    audit_archive_dir: Path

    @classmethod
    def from_settings(cls) -> RetentionPolicy:
        return cls(
            outbox_sent_days=settings.RETENTION_OUTBOX_SENT_DAYS,
            outbox_failed_days=settings.RETENTION_OUTBOX_FAILED_DAYS,
            idempotency_days=settings.RETENTION_IDEMPOTENCY_DAYS,
            login_attempts_days=settings.RETENTION_LOGIN_ATTEMPTS_DAYS,
            audit_archive_after_days=settings.RETENTION_AUDIT_ARCHIVE_AFTER_DAYS,
            audit_archive_dir=Path(settings.RETENTION_AUDIT_ARCHIVE_DIR),
        )


def _all(model, why: str):
    return UNSCOPED_across_all_tenants(model, reason=f"retention: {why}")


def outbox_prune(*, now: datetime, policy: RetentionPolicy) -> int:
    """Sent messages after the sent horizon, failed ones after the (longer) failed horizon; unfinished never."""
    sent = Q(status=OutboundEmail.Status.SENT, sent_at__lt=now - timedelta(days=policy.outbox_sent_days))
    failed = Q(status=OutboundEmail.Status.FAILED, created_at__lt=now - timedelta(days=policy.outbox_failed_days))
    return _all(OutboundEmail, "prune finished e-mail").filter(sent | failed).delete()[0]


def idempotency_prune(*, now: datetime, policy: RetentionPolicy) -> int:
    """A stored response is only useful while a client may still retry its request; after that it is dead weight."""
    cutoff = now - timedelta(days=policy.idempotency_days)
    return _all(IdempotencyRecord, "prune idempotency records").filter(updated_at__lt=cutoff).delete()[0]


def login_attempts_prune(*, now: datetime, policy: RetentionPolicy) -> int:
    """django-axes' attempt, access and failure logs past the horizon (a lockout lasts minutes, not weeks)."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    cutoff = now - timedelta(days=policy.login_attempts_days)
    deleted = 0
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        deleted += model.objects.filter(attempt_time__lt=cutoff).delete()[0]
    return deleted


def sessions_prune(*, now: datetime) -> int:
    """What `clearsessions` does for the database backend, on the run's clock."""
    return Session.objects.filter(expire_date__lt=now).delete()[0]


def audit_archive_path(policy: RetentionPolicy, *, provider_id: int, month: date) -> Path:
    return policy.audit_archive_dir / str(provider_id) / f"audit-{month:%Y-%m}.csv.gz"


def _audit_row(entry: AuditEntry) -> list[str]:
    return [
        str(entry.id), entry.created_at.isoformat(), str(entry.provider_id), str(entry.customer_id or ""),
        entry.actor_kind, entry.actor_label, str(entry.actor_user_id or ""), str(entry.actor_token_id or ""),
        entry.action, entry.object_type, entry.object_id, entry.object_repr,
        json.dumps(entry.changes, sort_keys=True, ensure_ascii=False), entry.ip_address or "",
    ]


def _write_archive(path: Path, entries) -> int:
    """Write the whole month to a temp name, flush it to disk, then rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    count = 0
    try:
        with open(temp, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                text = io.TextIOWrapper(gz, encoding="utf-8", newline="")
                writer = safe_csv_writer(text)  # names typed by people: inert when opened in a spreadsheet
                writer.writerow(AUDIT_ARCHIVE_COLUMNS)
                for entry in entries:
                    writer.writerow(_audit_row(entry))
                    count += 1
                text.flush()
                text.detach()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return count


def audit_archive(*, now: datetime, policy: RetentionPolicy) -> dict[str, int]:
    """Archive and then delete every provider-month that ended before the archive horizon."""
    horizon = now - timedelta(days=policy.audit_archive_after_days)
    # Only whole months: the month containing the horizon still has entries younger than it.
    first_kept = date(horizon.year, horizon.month, 1)
    old = _all(AuditEntry, "archive old audit months").filter(created_at__date__lt=first_kept)
    months = (
        old.annotate(month=TruncMonth("created_at")).values_list("provider_id", "month").distinct()
        .order_by("provider_id", "month")
    )
    archived = deleted = 0
    files = 0
    for provider_id, month_start in list(months):
        month = month_start.date() if isinstance(month_start, datetime) else month_start
        next_month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        rows = old.filter(provider_id=provider_id, created_at__date__gte=month, created_at__date__lt=next_month)
        with transaction.atomic():
            # Lock the month's rows so the file and the delete cover exactly the same set.
            ids = list(rows.select_for_update().order_by("created_at", "id").values_list("id", flat=True))
            entries = AuditEntry.objects.filter(id__in=ids).order_by("created_at", "id").iterator(chunk_size=2000)
            archived += _write_archive(audit_archive_path(policy, provider_id=provider_id, month=month), entries)
            deleted += AuditEntry.objects.filter(id__in=ids).delete()[0]
            files += 1
        logger.info("audit: archived provider %s month %s (%d entries)", provider_id, month, len(ids))
    return {"audit_archived": archived, "audit_deleted": deleted, "audit_files": files}


def audit_archive_read(path: Path) -> list[dict[str, str]]:
    """Read an archive back (for operators and tests): one dict per entry, columns as written."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def platform_retention_apply(*, now: datetime, policy: RetentionPolicy | None = None) -> dict[str, int]:
    """Every rule of this module once; each step commits on its own, so a failure in one leaves the others done."""
    policy = policy or RetentionPolicy.from_settings()
    counts = {
        "outbox": outbox_prune(now=now, policy=policy),
        "idempotency": idempotency_prune(now=now, policy=policy),
        "login_attempts": login_attempts_prune(now=now, policy=policy),
        "sessions": sessions_prune(now=now),
    }
    counts.update(audit_archive(now=now, policy=policy))
    return counts
