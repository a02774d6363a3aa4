"""Why a sync stopped, in a provider's words, and whether trying again can help.

Every exception a sync can meet is classified here, not only the pool's: a wrong encryption key, a lost database
connection or a Redis that does not answer must leave the account marked with a reason and its lease released,
never a traceback and a lease held with the status still "in step".
"""

from __future__ import annotations

from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded
from cryptography.fernet import InvalidToken
from django.db import DatabaseError, InterfaceError, OperationalError

from mining.whitebit.errors import WhiteBitError


@dataclass(frozen=True)
class SyncFailure:
    message: str
    retryable: bool
    expected: bool = True  # False: a programming error, logged with its traceback for the operator
    database_lost: bool = False  # the connection died: the retry waits for the database, not for a backoff


class SyncInterrupted(Exception):
    """A sync stopped by something other than the pool, that a retry may cure (the task retries it)."""

    def __init__(self, failure: SyncFailure) -> None:
        super().__init__(failure.message)
        self.user_message = failure.message
        self.retryable = failure.retryable
        self.database_lost = failure.database_lost


def sync_failure_classify(exc: BaseException) -> SyncFailure:
    if isinstance(exc, WhiteBitError):
        return SyncFailure(exc.user_message, exc.retryable)
    if isinstance(exc, SyncInterrupted):
        return SyncFailure(exc.user_message, exc.retryable)
    if isinstance(exc, InvalidToken):
        return SyncFailure(
            "The portal cannot decrypt this provider's pool API secret: the key it was encrypted with is not in "
            "FIELD_ENCRYPTION_KEYS any more. Put that key back (after the current one), or enter the secret again.",
            retryable=False,
        )
    if isinstance(exc, OperationalError | InterfaceError):
        return SyncFailure("The database connection was lost during the sync; it will be retried.", retryable=True,
                           database_lost=True)
    if isinstance(exc, DatabaseError):
        return SyncFailure("The database refused a write during the sync (logged for the operator).",
                           retryable=False, expected=False)
    try:
        import redis
    except ImportError:  # pragma: no cover - redis is a requirement
        redis = None
    if redis is not None and isinstance(exc, redis.exceptions.RedisError):
        return SyncFailure(
            "The shared rate-limit store (Redis) did not answer in time; the sync will be retried.", retryable=True
        )
    if isinstance(exc, SoftTimeLimitExceeded):
        return SyncFailure("The sync ran past its time limit and was stopped; it will be retried.", retryable=True)
    return SyncFailure(
        "An unexpected error stopped the sync (the operator's log has the details); the next cycle tries again.",
        retryable=False, expected=False,
    )
