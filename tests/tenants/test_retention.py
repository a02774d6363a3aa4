"""Bounded growth: each table past its horizon is pruned (the audit log archived first), nothing younger is touched.

Every clock is fixed: the services take `now=`; the beat task and the command run under a moved clock.
"""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.management import call_command

from billing.exports.retention import export_files_prune
from billing.models import ExportJob, ExportKind, ExportStatus
from billing.services.exports import export_job_file
from mining.models import AccountHashrateSample, Interval, MiningAccount, Worker, WorkerHashrateSample
from mining.services.retention import hashrate_retention_apply
from portal.celery import app
from tenants.models import AuditEntry, IdempotencyRecord, OutboundEmail
from tenants.services.retention import (
    RetentionPolicy,
    audit_archive,
    audit_archive_path,
    audit_archive_read,
    idempotency_prune,
    login_attempts_prune,
    outbox_prune,
    platform_retention_apply,
    sessions_prune,
)
from tests.fixtures.access import login_verified

NOW = datetime(2026, 12, 15, 3, 30, tzinfo=UTC)


@pytest.fixture
def policy(tmp_path, settings) -> RetentionPolicy:
    settings.RETENTION_AUDIT_ARCHIVE_DIR = tmp_path / "archive"
    return RetentionPolicy.from_settings()


def _audit(provider, at: datetime, action: str = "contract.update", **kw) -> AuditEntry:
    return AuditEntry.objects.create(
        provider=provider, actor_kind=AuditEntry.ActorKind.USER, actor_label="alice@alpha.example", action=action,
        object_type="billing.contract", object_id="7", object_repr="Contract 7",
        changes={"revenue_share_bps": [1000, 1500]}, created_at=at, **kw)


def _email(provider, *, status: str, created_at: datetime, sent_at: datetime | None = None, key: str) -> OutboundEmail:
    return OutboundEmail.objects.create(
        provider=provider, recipient="ops@carol.example", subject="s", body="b", dedupe_key=key, status=status,
        next_attempt_at=created_at, created_at=created_at, sent_at=sent_at)


# --- audit log: archived per provider and month, then deleted ---


def test_old_audit_months_are_archived_to_gzip_csv_then_deleted_and_younger_months_stay(world, policy):
    old = [_audit(world.provider_a, datetime(2025, 10, day, 12, tzinfo=UTC), action=f"a.{day}") for day in (1, 15, 31)]
    _audit(world.provider_b, datetime(2025, 10, 20, tzinfo=UTC))
    kept_nov = _audit(world.provider_a, datetime(2025, 11, 2, tzinfo=UTC))  # the horizon's month: not whole yet
    kept_recent = _audit(world.provider_a, NOW - timedelta(days=1))

    counts = audit_archive(now=NOW, policy=policy)

    assert counts == {"audit_archived": 4, "audit_deleted": 4, "audit_files": 2}
    left = set(AuditEntry.objects.values_list("id", flat=True))  # the world's own set-up entries are recent too
    assert {kept_nov.id, kept_recent.id} <= left and not left & {e.id for e in old}
    rows = audit_archive_read(audit_archive_path(policy, provider_id=world.provider_a.id, month=date(2025, 10, 1)))
    assert [r["id"] for r in rows] == [str(e.id) for e in old]
    assert [r["action"] for r in rows] == ["a.1", "a.15", "a.31"]
    assert rows[0]["changes"] == '{"revenue_share_bps": [1000, 1500]}'
    assert rows[0]["actor_label"] == "alice@alpha.example" and rows[0]["created_at"] == "2025-10-01T12:00:00+00:00"
    beta = audit_archive_read(audit_archive_path(policy, provider_id=world.provider_b.id, month=date(2025, 10, 1)))
    assert len(beta) == 1  # each provider's month in its own file: one tenant's archive never holds another's rows
    # A second run finds nothing left to archive and leaves the files as they are.
    assert audit_archive(now=NOW, policy=policy)["audit_archived"] == 0
    assert len(audit_archive_read(
        audit_archive_path(policy, provider_id=world.provider_a.id, month=date(2025, 10, 1)))) == 3


def test_a_run_killed_after_writing_the_file_is_completed_by_the_next_run_without_losing_or_doubling(world, policy):
    entries = [_audit(world.provider_a, datetime(2025, 9, day, tzinfo=UTC)) for day in (3, 4)]
    path = audit_archive_path(policy, provider_id=world.provider_a.id, month=date(2025, 9, 1))
    path.parent.mkdir(parents=True)
    with gzip.open(path, "wt") as stale:  # what a run killed mid-way left: a file, and the rows still in the table
        stale.write("id\n999\n")

    audit_archive(now=NOW, policy=policy)

    assert [r["id"] for r in audit_archive_read(path)] == [str(e.id) for e in entries]
    assert not AuditEntry.objects.filter(id__in=[e.id for e in entries]).exists()
    assert not list(path.parent.glob(".*.tmp"))


def test_an_archive_that_cannot_be_written_deletes_no_entry(world, policy, tmp_path, settings):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    settings.RETENTION_AUDIT_ARCHIVE_DIR = blocker
    entry = _audit(world.provider_a, datetime(2025, 9, 3, tzinfo=UTC))

    with pytest.raises(OSError):
        audit_archive(now=NOW, policy=RetentionPolicy.from_settings())

    assert AuditEntry.objects.filter(pk=entry.pk).exists()


# --- outbox, idempotency, login attempts, sessions ---


def test_outbox_prunes_sent_and_failed_mail_past_their_horizons_and_never_unfinished_mail(world, policy):
    pa = world.provider_a
    S = OutboundEmail.Status
    days = lambda n: NOW - timedelta(days=n)  # noqa: E731
    gone_sent = _email(pa, status=S.SENT, created_at=days(95), sent_at=days(91), key="1")
    kept_sent = _email(pa, status=S.SENT, created_at=days(95), sent_at=days(89), key="2")
    gone_failed = _email(pa, status=S.FAILED, created_at=NOW - timedelta(days=181), key="3")
    kept_failed = _email(pa, status=S.FAILED, created_at=NOW - timedelta(days=120), key="4")
    kept_queued = _email(pa, status=S.QUEUED, created_at=NOW - timedelta(days=400), key="5")

    assert outbox_prune(now=NOW, policy=policy) == 2

    left = set(OutboundEmail.objects.values_list("id", flat=True))
    assert left == {kept_sent.id, kept_failed.id, kept_queued.id}
    assert gone_sent.id not in left and gone_failed.id not in left


def test_idempotency_records_are_kept_30_days_after_their_last_use(world, policy):
    def record(key: str, age_days: int) -> IdempotencyRecord:
        at = NOW - timedelta(days=age_days)
        return IdempotencyRecord.objects.create(
            provider=world.provider_a, caller="token:1", key=key, method="POST", path="/api/v1/x",
            fingerprint="f" * 64, state=IdempotencyRecord.State.RUNNING, response_body={"big": "x" * 100},
            created_at=at, updated_at=at)

    record("old", 31)
    kept = record("young", 29)

    assert idempotency_prune(now=NOW, policy=policy) == 1
    assert list(IdempotencyRecord.objects.values_list("id", flat=True)) == [kept.id]


def test_login_attempt_logs_older_than_30_days_are_pruned(db, policy):
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        for age in (31, 2):
            row = model.objects.create(username=f"u{age}@x.example", ip_address="10.0.0.1", user_agent="t",
                                       **({"failures_since_start": 1} if model is AccessAttempt else {}))
            model.objects.filter(pk=row.pk).update(attempt_time=NOW - timedelta(days=age))

    assert login_attempts_prune(now=NOW, policy=policy) == 3
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        assert list(model.objects.values_list("username", flat=True)) == ["u2@x.example"]


def test_expired_sessions_are_cleared_and_live_ones_stay(db):
    with time_machine.travel(NOW - timedelta(days=30), tick=False):
        old = SessionStore()
        old.set_expiry(3600)
        old.create()
    with time_machine.travel(NOW, tick=False):
        live = SessionStore()
        live.set_expiry(3600)
        live.create()

    assert sessions_prune(now=NOW) == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


# --- export files ---


def _done_job(world, tmp_path: Path, *, finished_days_ago: int, period: date) -> ExportJob:
    path = tmp_path / f"{period:%Y-%m}.xlsx"
    path.write_bytes(b"workbook")
    import hashlib

    return ExportJob.objects.create(
        provider=world.provider_a, kind=ExportKind.MONTH_XLSX, period=period, status=ExportStatus.DONE,
        file_path=str(path), file_sha256=hashlib.sha256(b"workbook").hexdigest(), file_size=8,
        created_at=NOW - timedelta(days=finished_days_ago), finished_at=NOW - timedelta(days=finished_days_ago))


def test_export_files_past_90_days_are_removed_and_the_page_says_so_and_offers_a_rebuild(world, tmp_path, client):
    old = _done_job(world, tmp_path, finished_days_ago=91, period=date(2026, 8, 1))
    young = _done_job(world, tmp_path, finished_days_ago=10, period=date(2026, 11, 1))

    assert export_files_prune(now=NOW) == 1

    old.refresh_from_db()
    assert not Path(tmp_path / "2026-08.xlsx").exists() and Path(young.file_path).is_file()
    assert old.status == ExportStatus.FAILED and old.file_path == ""
    assert "removed 90 days after it was built" in old.error
    with pytest.raises(ValidationError):
        export_job_file(scope=world.scope(world.alice, world.provider_a), job_id=old.pk)
    assert export_job_file(scope=world.scope(world.alice, world.provider_a), job_id=young.pk).path.is_file()

    login_verified(client, world.alice)
    page = client.get(f"/p/{world.provider_a.slug}/billing/exports/{old.pk}/")  # the fragment the page polls
    assert page.status_code == 200
    text = page.content.decode()
    assert "Removed:" in text and "Build again" in text


# --- hashrate: a worker's hourly points have their own, shorter horizon ---


def test_worker_hourly_points_are_kept_35_days_while_the_account_hourly_series_keeps_400(world):
    account = MiningAccount.objects.create(provider=world.provider_a, customer=world.customer_a1, name="ret")
    worker = Worker.objects.create(provider=world.provider_a, customer=world.customer_a1, account=account,
                                   name="rig1", first_seen_at=NOW - timedelta(days=100))
    common = {"provider": world.provider_a, "customer": world.customer_a1, "account": account,
              "interval": Interval.H1, "hashrate_hs": Decimal(1)}
    for age in (36, 34):
        WorkerHashrateSample.objects.create(worker=worker, at=NOW - timedelta(days=age), **common)
        AccountHashrateSample.objects.create(at=NOW - timedelta(days=age), **common)

    deleted = hashrate_retention_apply(now=NOW)

    assert deleted["WorkerHashrateSample:1h"] == 1 and deleted["AccountHashrateSample:1h"] == 0
    assert [s.at for s in WorkerHashrateSample.objects.all()] == [NOW - timedelta(days=34)]
    assert AccountHashrateSample.objects.count() == 2


# --- wiring: beat runs it daily; the command runs it now ---


def test_beat_runs_every_retention_rule_daily():
    import billing.tasks  # noqa: F401  (registers the tasks as the worker's autodiscovery does)
    import mining.tasks  # noqa: F401
    import tenants.tasks  # noqa: F401

    schedule = app.conf.beat_schedule
    for name, task in (("tenants-platform-retention", "tenants.tasks.platform_retention_task"),
                       ("billing-export-retention", "billing.tasks.billing_export_retention_task"),
                       ("mining-hashrate-retention", "mining.tasks.hashrate_retention")):
        assert schedule[name]["task"] == task and task in app.tasks


def test_the_task_and_the_command_apply_the_policy_on_the_clock_they_run_at(world, policy, capsys):
    from tenants.tasks import platform_retention_task

    _email(world.provider_a, status=OutboundEmail.Status.SENT, created_at=NOW - timedelta(days=100),
           sent_at=NOW - timedelta(days=95), key="old")
    archived = _audit(world.provider_a, datetime(2025, 10, 5, tzinfo=UTC))
    with time_machine.travel(NOW - timedelta(days=30), tick=False):  # a month earlier neither is due yet
        assert platform_retention_task.apply().get()["outbox"] == 0
    with time_machine.travel(NOW, tick=False):
        call_command("retention_apply")
    out = capsys.readouterr().out
    assert "outbox: 1" in out and "audit_archived: 1" in out
    assert not OutboundEmail.objects.exists() and not AuditEntry.objects.filter(pk=archived.pk).exists()
    assert platform_retention_apply(now=NOW, policy=policy)["outbox"] == 0
