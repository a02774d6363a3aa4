"""The e-mail outbox: every message the product sends is a row first, and a task sends it after commit.

Why an outbox: a notice must commit with the event it tells about (an alert, an invitation, a statement) or not
at all, and a mail server that refuses, hangs or is down must delay it, never lose it and never break the code
that raised it. So `email_enqueue` only inserts rows, in the caller's transaction; `email_send` (run by
`tenants.tasks.email_send_task`) claims one row with a conditional UPDATE, sends it, and marks it sent only after
the mail server took it; `email_outbox_sweep` (beat) re-enqueues rows a lost broker queue or a killed worker left
behind. One row per recipient: nobody sees anyone else's address and one refusing mailbox fails only its own
message. Delivery is at least once: a worker killed between the server's "250 OK" and the UPDATE that records it
sends that one message again (each message carries a stable Message-ID, so mail clients can fold the copy).

The send path reads rows by id across tenants (`UNSCOPED_across_all_tenants`): a task is given only the id of
a row that carries its own tenant, and nothing it reads is shown to anyone.
"""

from __future__ import annotations

import logging
import math
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from tenants.access import Capability, Scope, UNSCOPED_across_all_tenants, scope_for_system, scoped
from tenants.audit import audit_record
from tenants.models import Customer, OutboundEmail

logger = logging.getLogger(__name__)

Status = OutboundEmail.Status


# --- queue ---------------------------------------------------------------------------------------------------------


def _clean_recipients(recipients: Iterable[str]) -> tuple[list[str], list[str]]:
    """(valid addresses without duplicates, invalid ones), comparing addresses case-insensitively."""
    seen: set[str] = set()
    valid: list[str] = []
    invalid: list[str] = []
    for raw in recipients:
        address = (raw or "").strip()
        try:
            validate_email(address)
        except ValidationError:
            invalid.append(raw)
            continue
        if address.lower() not in seen:
            seen.add(address.lower())
            valid.append(address)
    return valid, invalid


def email_enqueue(
    *,
    provider_id: int,
    customer_id: int | None = None,
    recipients: Iterable[str],
    subject: str,
    body: str,
    dedupe_key: str,
    now: datetime | None = None,
) -> list[int]:
    """Queue one message per recipient in the caller's transaction; the send task is enqueued on commit.

    Queuing the same `dedupe_key` for the same recipient again is a no-op, so a retried caller never sends a
    notice twice. Bad input raises `ValidationError` field by field and queues nothing. Returns the ids of the
    rows this call added.
    """
    now = now or timezone.now()
    valid, invalid = _clean_recipients(recipients)
    errors: dict[str, str] = {}
    if invalid:
        errors["recipients"] = "Not valid e-mail addresses: " + ", ".join(repr(a) for a in invalid) + "."
    if not subject.strip():
        errors["subject"] = "Give a subject."
    elif "\n" in subject or "\r" in subject:
        errors["subject"] = "A subject is one line (no line breaks)."
    elif len(subject) > OutboundEmail._meta.get_field("subject").max_length:
        errors["subject"] = "Keep the subject under 256 characters."
    if not dedupe_key or len(dedupe_key) > OutboundEmail._meta.get_field("dedupe_key").max_length:
        errors["dedupe_key"] = "Give a key of 1–200 characters that names what the message is about."
    if customer_id is not None and not scoped(Customer, scope_for_system(provider_id=provider_id)).filter(
        pk=customer_id
    ).exists():
        errors["customer_id"] = "No such customer at this provider."
    if errors:
        raise ValidationError(errors)
    if not valid:
        return []

    give_up_at = now + timedelta(seconds=settings.EMAIL_OUTBOX_GIVE_UP_AFTER_S)
    ids = _insert_new([
        {"provider": provider_id, "customer": customer_id, "recipient": address, "subject": subject, "body": body,
         "dedupe_key": dedupe_key, "status": Status.QUEUED, "attempts": 0, "last_error": "", "next_attempt_at": now,
         "created_at": now, "give_up_at": give_up_at}
        for address in valid
    ])
    if ids:
        transaction.on_commit(lambda: _publish(ids))
    return ids


_INSERT_FIELDS = ("provider", "customer", "recipient", "subject", "body", "dedupe_key", "status", "attempts",
                  "last_error", "next_attempt_at", "created_at", "give_up_at")


def _insert_new(rows: list[dict]) -> list[int]:
    """`INSERT … ON CONFLICT DO NOTHING RETURNING id`: the ids of exactly the rows this statement inserted.

    Why raw SQL: the ORM's `bulk_create(ignore_conflicts=True)` returns no ids, and selecting them afterwards also
    finds a row a concurrent transaction inserted and committed meanwhile, so both callers published it and the
    message ran two retry chains (issue 17). A row that conflicts (queued before, or by a concurrent caller, who
    then owns its publish) is simply not returned. PostgreSQL and SQLite (≥ 3.35) both speak this.
    """
    if not rows:
        return []
    fields = [OutboundEmail._meta.get_field(name) for name in _INSERT_FIELDS]
    quote = connection.ops.quote_name
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {quote(OutboundEmail._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES {', '.join([row_sql] * len(rows))} ON CONFLICT DO NOTHING RETURNING {quote('id')}"
    )
    params = [field.get_db_prep_save(row[field.name], connection) for row in rows for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(row[0] for row in cursor.fetchall())


def _publish(email_ids: Iterable[int]) -> None:
    """Hand each row to a worker. A broker that is down only delays the mail: the row is committed and the
    sweep picks it up, so this never raises into the caller's (already committed) work."""
    from tenants.tasks import email_send_task

    for email_id in email_ids:
        try:
            email_send_task.delay(email_id)
        except Exception:  # kombu's connection errors vary by transport; the committed row is the safety net
            logger.warning("e-mail %s not handed to a worker; the outbox sweep will send it", email_id, exc_info=True)


# --- send ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmailSendResult:
    """What one send attempt did; `retry_in_s` is set when the task should try again that much later."""

    outcome: str  # "sent", "retry", "failed" or "skipped" (not claimable: sent, failed or held by another worker)
    retry_in_s: int | None = None
    error: str = ""


def _backoff_s(attempts: int) -> int:
    return min(settings.EMAIL_OUTBOX_BACKOFF_CAP_S, settings.EMAIL_OUTBOX_BACKOFF_BASE_S * 2 ** max(0, attempts - 1))


def _words(text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = " ".join(str(text).split())
    password = getattr(settings, "EMAIL_HOST_PASSWORD", "")
    if password and password in text:  # a server that echoes the login must not put it in the outbox
        text = text.replace(password, "…")
    return text


def _classify(exc: BaseException) -> tuple[bool, str]:
    """(permanent?, why in words). Permanent means this message can never be delivered as it is: the server
    refused the recipient or the content (5xx), or the message cannot be built. Everything about reaching the
    server or its configuration (refused connection, timeout, 4xx, login) may heal, so it is retried."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()), (550, b""))
        return code >= 500, f"The mail server refused the recipient ({code} {_words(reply)})."
    if isinstance(exc, smtplib.SMTPDataError):
        return exc.smtp_code >= 500, f"The mail server refused the message ({exc.smtp_code} {_words(exc.smtp_error)})."
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return False, f"The mail server did not accept the portal's login ({exc.smtp_code}); check EMAIL_URL."
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return False, (
            f"The mail server refused the sender address ({exc.smtp_code} {_words(exc.smtp_error)}); "
            "check DEFAULT_FROM_EMAIL."
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return False, f"The mail server answered {exc.smtp_code} {_words(exc.smtp_error)}."
    if isinstance(exc, TimeoutError) or (isinstance(exc, smtplib.SMTPServerDisconnected) and "timed out" in str(exc)):
        return False, "The mail server did not answer in time."
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return False, "The mail server closed the connection before the message was accepted."
    if isinstance(exc, OSError):
        reason = getattr(exc, "strerror", None) or _words(str(exc)) or type(exc).__name__
        return False, f"Could not reach the mail server ({reason})."
    if isinstance(exc, smtplib.SMTPException):
        return False, f"The exchange with the mail server failed ({_words(str(exc)) or type(exc).__name__})."
    return True, f"The message could not be sent ({type(exc).__name__}: {_words(str(exc))})."


def _message_id(email: OutboundEmail) -> str:
    """Stable per row, so a copy sent again after a crash is recognisably the same message."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "localhost"
    return f"<outbox-{email.pk}.{email.created_at:%Y%m%d%H%M%S}@{domain}>"


def _deliver(email: OutboundEmail) -> None:
    timeout = getattr(settings, "EMAIL_TIMEOUT", None) or settings.EMAIL_OUTBOX_SEND_TIMEOUT_S
    connection = get_connection(fail_silently=False, timeout=timeout)
    from tenants.brand import brand_for_provider_id

    message = EmailMessage(
        subject=email.subject, body=email.body, to=[email.recipient], connection=connection,
        from_email=brand_for_provider_id(email.provider_id).from_email,  # "Brand <addr>", DEFAULT_FROM_EMAIL else
        headers={"Message-ID": _message_id(email)},
    )
    if message.send() != 1:
        raise smtplib.SMTPException("the mail backend accepted nothing")


def email_give_up_at(email: OutboundEmail) -> datetime:
    """When a failed attempt of this message is its last (rows older than the field: created + the horizon)."""
    return email.give_up_at or email.created_at + timedelta(seconds=settings.EMAIL_OUTBOX_GIVE_UP_AFTER_S)


def email_send(*, email_id: int, now: datetime | None = None) -> EmailSendResult:
    """Claim one due row, send it to its one recipient, record what happened.

    The claim is a conditional UPDATE: queued **and due** (`next_attempt_at <= now`), or sending with an expired
    lease. So two workers given the same id send it once, a message whose worker was killed is picked up again once
    the lease runs out, and a task that arrives before the row's backoff is over (a duplicated publish, a second
    retry chain) does nothing and ends, leaving the row's own schedule in charge. A transient failure is retried
    on a doubling backoff until the row's give-up time (EMAIL_OUTBOX_GIVE_UP_AFTER_S after it was queued, 24 h),
    not for a number of attempts: a mail server down for an hour must not cost a notice.
    """
    now = now or timezone.now()
    lease_until = now + timedelta(seconds=settings.EMAIL_OUTBOX_CLAIM_S)
    rows = UNSCOPED_across_all_tenants(OutboundEmail, reason="outbox: one row by id, claimed, never shown")
    claimable = Q(status=Status.QUEUED, next_attempt_at__lte=now) | Q(status=Status.SENDING, claimed_until__lt=now)
    claimed = rows.filter(claimable, pk=email_id).update(
        status=Status.SENDING, claimed_until=lease_until, attempts=F("attempts") + 1
    )
    if not claimed:
        return EmailSendResult("skipped")
    email = rows.get(pk=email_id)
    mine = rows.filter(pk=email_id, status=Status.SENDING, claimed_until=lease_until)  # our lease is the token
    try:
        _deliver(email)
    except Exception as exc:  # classified below: every failure is recorded on the row, none is swallowed
        permanent, why = _classify(exc)
        give_up_at = email_give_up_at(email)
        if not permanent and now >= give_up_at:
            why = f"Given up after {_hours(settings.EMAIL_OUTBOX_GIVE_UP_AFTER_S)} of attempts. {why}"
        why = why[: OutboundEmail._meta.get_field("last_error").max_length]
        if permanent or now >= give_up_at:
            mine.update(status=Status.FAILED, claimed_until=None, last_error=why, failed_at=now)
            logger.warning("e-mail %s failed after %s attempt(s): %s", email_id, email.attempts, why)
            if permanent and not isinstance(exc, smtplib.SMTPException):
                logger.error("e-mail %s could not be built or sent", email_id, exc_info=exc)
            return EmailSendResult("failed", error=why)
        # The last attempt lands on the give-up time itself, so the schedule ends at the horizon, not before it.
        next_at = min(now + timedelta(seconds=_backoff_s(email.attempts)), give_up_at)
        retry_in_s = max(1, math.ceil((next_at - now).total_seconds()))
        mine.update(status=Status.QUEUED, claimed_until=None, last_error=why, next_attempt_at=next_at)
        logger.info("e-mail %s will retry in %ss: %s", email_id, retry_in_s, why)
        return EmailSendResult("retry", retry_in_s=retry_in_s, error=why)
    mine.update(status=Status.SENT, claimed_until=None, sent_at=now, last_error="")
    return EmailSendResult("sent")


def _hours(seconds: int) -> str:
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds // 60} min"


# --- recover -------------------------------------------------------------------------------------------------------


def email_outbox_sweep(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Beat's safety net: re-enqueue rows that should have been sent by now but were not.

    A queued row past its due time by EMAIL_OUTBOX_SWEEP_AFTER_S lost its task (a flushed broker, a publish that
    failed); a sending row past its lease lost its worker. Enqueuing one twice is harmless: the claim sends once.
    """
    now = now or timezone.now()
    rows = UNSCOPED_across_all_tenants(OutboundEmail, reason="outbox sweep: ids only, each claimed by id")
    # A worker that died sending a message past its give-up time leaves nothing to retry: say so, do not loop
    # (a message that kills its worker every time stops at the horizon).
    horizon = timedelta(seconds=settings.EMAIL_OUTBOX_GIVE_UP_AFTER_S)
    past_give_up = Q(give_up_at__lte=now) | Q(give_up_at__isnull=True, created_at__lte=now - horizon)
    rows.filter(past_give_up, status=Status.SENDING, claimed_until__lt=now).update(
        status=Status.FAILED, claimed_until=None, failed_at=now,
        last_error="The worker sending it stopped during an attempt after its give-up time.")
    overdue = now - timedelta(seconds=settings.EMAIL_OUTBOX_SWEEP_AFTER_S)
    ids = list(
        rows.filter(Q(status=Status.QUEUED, next_attempt_at__lte=overdue) | Q(status=Status.SENDING,
                                                                               claimed_until__lt=now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        logger.warning("outbox sweep: re-enqueuing %s e-mail(s) whose task was lost", len(ids))
        _publish(ids)
    return ids


def email_retry_failed(*, scope: Scope, email_ids: list[int] | None = None, now: datetime | None = None) -> list[int]:
    """An operator's second chance for failed mail (after fixing EMAIL_URL or a customer's address).

    Only failed rows in the caller's scope; naming one that is not (sent, queued, another tenant's, missing)
    changes nothing and says which. Each row gets a fresh give-up horizon and an audit entry.
    """
    scope.require(Capability.MANAGE_ACCOUNTS)
    now = now or timezone.now()
    with transaction.atomic():
        failed = scoped(OutboundEmail, scope).filter(status=Status.FAILED).order_by("pk").select_for_update()
        if email_ids is not None:
            failed = failed.filter(pk__in=email_ids)
        rows = list(failed)
        if email_ids is not None:
            missing = sorted(set(email_ids) - {r.pk for r in rows})
            if missing:
                raise ValidationError(
                    {"email_ids": "Not failed e-mail of this provider: " + ", ".join(map(str, missing)) + "."}
                )
        for row in rows:
            before = {"status": row.status, "attempts": row.attempts, "last_error": row.last_error}
            after = {"status": Status.QUEUED, "attempts": 0, "last_error": ""}
            scoped(OutboundEmail, scope).filter(pk=row.pk).update(
                **after, next_attempt_at=now, claimed_until=None, failed_at=None,
                give_up_at=now + timedelta(seconds=settings.EMAIL_OUTBOX_GIVE_UP_AFTER_S))
            audit_record(scope=scope, action="email.retry", target=row, before=before, after=after)
        ids = [r.pk for r in rows]
    if ids:
        transaction.on_commit(lambda: _publish(ids))
    return ids
