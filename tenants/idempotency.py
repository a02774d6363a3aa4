"""Idempotency keys (Stripe's model): a retried write with the same key gets the first answer, never a second write.

Why records, not a cache: the answer must outlive restarts and be exact, and the claim must be atomic across
web processes, which a unique row in PostgreSQL gives for free. The claim commits on its own before the write
starts, so a concurrent retry sees `running` and is told to wait instead of writing twice.

A write that ended without an answer from the pool (timeout, 5xx) leaves the record `unknown`: the retry with
the same key runs again with `outcome_unknown_since` set, and the write service looks upstream for what the
first attempt may have created before creating anything (see mining/services/upstream_writes.py).

`idempotent_write()` is the one home of the state machine (claim, replay, release, outcome unknown, complete) for
every once-only write: the pages' `OnceForm` (portal/views/once.py) and the API's base view both call it.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from tenants.access import Scope, scoped
from tenants.models import IdempotencyRecord

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces, like Stripe's


class IdempotencyError(Exception):
    code = "idempotency_error"
    status = 400


class IdempotencyKeyInvalid(IdempotencyError):
    code = "idempotency_key_invalid"
    status = 400


class IdempotencyKeyReused(IdempotencyError):
    code = "idempotency_key_reused"
    status = 422


class IdempotencyInProgress(IdempotencyError):
    code = "idempotency_key_in_use"
    status = 409


@dataclass(frozen=True)
class IdempotencyClaim:
    record: IdempotencyRecord
    replay: tuple[int, Any] | None  # the stored (status, body) when the first request finished
    outcome_unknown_since: datetime | None  # set when an earlier attempt may have reached the pool


@dataclass
class WriteAttempt:
    """What a write service needs to be safe to run again (Stripe's "recovery points").

    `outcome_unknown_since` is set when an earlier attempt under the same key may have reached the pool;
    `recovery` holds what that attempt noted (`remember`) before it called the pool, committed at once so it
    survives the attempt's failure.
    """

    outcome_unknown_since: datetime | None = None
    recovery: dict[str, Any] = field(default_factory=dict)
    record_id: int | None = None

    def remember(self, **data: Any) -> None:
        self.recovery.update(data)
        if self.record_id is not None:
            IdempotencyRecord.objects.filter(pk=self.record_id).update(recovery=self.recovery)

    @classmethod
    def for_claim(cls, claim: IdempotencyClaim) -> WriteAttempt:
        return cls(claim.outcome_unknown_since, dict(claim.record.recovery or {}), claim.record.pk)


def request_fingerprint(*, method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def caller_label(scope: Scope) -> str:
    return f"token:{scope.token_id}" if scope.token_id is not None else f"user:{scope.user_id or 0}"


def idempotency_claim(
    *, scope: Scope, key: str, method: str, path: str, body: Any, now: datetime | None = None
) -> IdempotencyClaim:
    """Claim `key` for this request, or learn what happened to the first request that used it."""
    if not KEY_PATTERN.match(key or ""):
        raise IdempotencyKeyInvalid("Idempotency-Key must be 1–255 printable characters without spaces.")
    now = now or timezone.now()
    fingerprint = request_fingerprint(method=method, path=path, body=body)
    caller = caller_label(scope)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                provider_id=scope.provider_id, customer_id=scope.customer_id, caller=caller, key=key,
                method=method.upper(), path=path, fingerprint=fingerprint, created_at=now, updated_at=now,
            )
        return IdempotencyClaim(record, None, None)
    except IntegrityError:
        pass
    stale_after = timedelta(seconds=settings.API_IDEMPOTENCY_STALE_S)
    with transaction.atomic():
        record = scoped(IdempotencyRecord.objects.select_for_update(), scope).get(caller=caller, key=key)
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                f"This Idempotency-Key was first used with a different request ({record.method} {record.path} "
                "with another body); use a new key for a new request."
            )
        if record.state == IdempotencyRecord.State.DONE:
            return IdempotencyClaim(record, (record.response_status, record.response_body), None)
        if record.state == IdempotencyRecord.State.RUNNING and now - record.updated_at < stale_after:
            raise IdempotencyInProgress(
                "A request with this Idempotency-Key is still running; retry after it has finished."
            )
        # `unknown`, or `running` long past any timeout (its process died): the first attempt may have landed.
        record.state = IdempotencyRecord.State.RUNNING
        record.attempts += 1
        record.updated_at = now
        record.save(update_fields=["state", "attempts", "updated_at"])
        return IdempotencyClaim(record, None, record.created_at)


def idempotency_complete(*, record: IdempotencyRecord, status: int, body: Any) -> None:
    """Store the answer every retry with this key will get."""
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.State.DONE, response_status=status, response_body=body, updated_at=timezone.now()
    )


def idempotency_outcome_unknown(*, record: IdempotencyRecord) -> None:
    """The pool did not answer: a retry with the same key must look upstream before writing again."""
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.State.UNKNOWN, updated_at=timezone.now()
    )


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """Nothing was written (the request was invalid before any write): the key may be used again, even with a
    corrected body. A retry after an `unknown` attempt keeps its record, since that attempt may still land."""
    if record.attempts == 1:
        IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.RUNNING).delete()
    else:
        idempotency_outcome_unknown(record=record)


#: Refusals raised before anything was written (bad input, someone else's object, a role that may not): the key is
#: released, so the corrected request may use it again. Anything else may have written (see `idempotent_write`).
NOTHING_WRITTEN: tuple[type[BaseException], ...] = (ValidationError, Http404, PermissionDenied)


@dataclass(frozen=True)
class WriteResult:
    """The answer of a once-only write: the first one's (`replayed`), or this one's."""

    status: int
    body: Any
    replayed: bool = False


def failure_releases_key(exc: BaseException, *, nothing_written: tuple[type[BaseException], ...] = ()) -> bool:
    """The one rule for a failed write: True when it certainly wrote nothing (release the key), False when it may
    have (mark the outcome unknown, so the retry looks upstream first).

    A pool error says so itself (`reached_upstream`, False only when the pool was never asked or refused at the
    door); a refusal of ours (`NOTHING_WRITTEN`, plus the caller's own, e.g. DRF's APIException) wrote nothing;
    anything else (a crash, a lost connection) may have written.
    """
    reached = getattr(exc, "reached_upstream", None)
    if reached is not None:
        return not reached
    return isinstance(exc, NOTHING_WRITTEN + nothing_written)


def idempotent_write(
    *,
    scope: Scope,
    key: str,
    method: str,
    path: str,
    body: Any,
    write: Callable[[WriteAttempt], tuple[int, Any]],
    nothing_written: tuple[type[BaseException], ...] = (),
    now: datetime | None = None,
) -> WriteResult:
    """Run `write(attempt)` at most once per (caller, key); a retry gets the first answer (`replayed=True`).

    Raises `IdempotencyKeyInvalid` / `IdempotencyKeyReused` (the key is bad, or was used for another request) and
    `IdempotencyInProgress` (the first request is still running) before writing anything. When `write` raises, the
    record is released or marked "outcome unknown" by `failure_releases_key`, and the error goes on to the caller.
    """
    claim = idempotency_claim(scope=scope, key=key, method=method, path=path, body=body, now=now)
    if claim.replay is not None:
        status, answer = claim.replay
        return WriteResult(status, answer, replayed=True)
    try:
        status, answer = write(WriteAttempt.for_claim(claim))
    except BaseException as exc:
        if failure_releases_key(exc, nothing_written=nothing_written):
            idempotency_release(record=claim.record)
        else:
            idempotency_outcome_unknown(record=claim.record)
        raise
    idempotency_complete(record=claim.record, status=status, body=answer)
    return WriteResult(status, answer)


def idempotency_wait(*, scope: Scope, key: str, timeout_s: float, poll_s: float = 0.2) -> WriteResult | None:
    """Wait up to `timeout_s` for a concurrent request with `key` (a double click) to finish: its answer, or None
    when it was refused (key released), ended without an answer (`unknown`) or is still running."""
    deadline = time.monotonic() + timeout_s
    records = scoped(IdempotencyRecord, scope).filter(caller=caller_label(scope), key=key)
    while time.monotonic() < deadline:
        time.sleep(poll_s)
        record = records.only("state", "response_status", "response_body").first()
        if record is None or record.state == IdempotencyRecord.State.UNKNOWN:
            return None
        if record.state == IdempotencyRecord.State.DONE:
            return WriteResult(record.response_status, record.response_body, replayed=True)
    return None
