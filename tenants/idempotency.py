"""Idempotency keys (Stripe's model): a retried write with the same key gets the first answer, never a second write.

Why records, not a cache: the answer must outlive restarts and be exact, and the claim must be atomic across
web processes, which a unique row in PostgreSQL gives for free. The claim commits on its own before the write
starts, so a concurrent retry sees `running` and is told to wait instead of writing twice.

A write that ended without an answer from the pool (timeout, 5xx) leaves the record `unknown`: the retry with
the same key runs again with `outcome_unknown_since` set, and the write service looks upstream for what the
first attempt may have created before creating anything (see mining/services/upstream_writes.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
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
