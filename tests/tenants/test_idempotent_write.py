"""The one idempotent write (tenants.idempotency.idempotent_write): each rule, so a regression in any fails here.

Pages (OnceForm) and the API both run through it; their own tests (tests/portal/test_onboarding.py,
test_customer_watcher_links.py, test_staff_billing_setup.py, tests/api/test_upstream_writes.py) show the same
rules as a user sees them. Real PostgreSQL rows; the clock is fixed where staleness matters.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from mining.whitebit.errors import (
    AuthFailed,
    RateBudgetExhausted,
    RateLimited,
    UnexpectedResponse,
    ValidationFailed,
    WhiteBitError,
)
from mining.whitebit.errors import UpstreamUnavailable as PoolUnavailable
from tenants.errors import Invalid, NotAllowed, NotFound, UpstreamRefused, UpstreamUnavailable
from tenants.idempotency import (
    IdempotencyInProgress,
    IdempotencyKeyInvalid,
    IdempotencyKeyReused,
    failure_releases_key,
    idempotent_write,
)
from tenants.models import IdempotencyRecord

T0 = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


class Calls:
    """A write that counts its calls, answers 201, or raises what it is told to."""

    def __init__(self, raises: BaseException | None = None) -> None:
        self.raises = raises
        self.attempts: list = []

    def __call__(self, attempt):
        self.attempts.append(attempt)
        if self.raises is not None:
            raise self.raises
        return 201, {"id": len(self.attempts)}


@pytest.fixture
def scope(world):
    return world.scope(world.alice, world.provider_a)


def _send(scope, write, *, key="k-1", body=None, now=T0, **kw):
    return idempotent_write(scope=scope, key=key, method="POST", path="/things/", body=body or {"name": "a"},
                            write=write, now=now, **kw)


def _record(key="k-1") -> IdempotencyRecord | None:
    return IdempotencyRecord.objects.filter(key=key).first()


def test_the_first_send_writes_and_every_retry_gets_its_answer_without_writing(scope):
    write = Calls()
    first = _send(scope, write)
    again = _send(scope, write)
    assert (first.status, first.body, first.replayed) == (201, {"id": 1}, False)
    assert (again.status, again.body, again.replayed) == (201, {"id": 1}, True)
    assert len(write.attempts) == 1 and write.attempts[0].outcome_unknown_since is None
    assert _record().state == IdempotencyRecord.State.DONE


def test_the_same_key_for_another_request_is_refused_and_writes_nothing(scope):
    _send(scope, Calls())
    other = Calls()
    with pytest.raises(IdempotencyKeyReused):
        _send(scope, other, body={"name": "b"})
    assert other.attempts == []


def test_a_bad_key_is_refused_before_anything(scope):
    write = Calls()
    with pytest.raises(IdempotencyKeyInvalid):
        _send(scope, write, key="has space")
    assert write.attempts == [] and not IdempotencyRecord.objects.exists()


def test_a_send_while_the_first_still_runs_is_told_to_wait(scope, settings):
    settings.API_IDEMPOTENCY_STALE_S = 60

    def slow(attempt):
        with pytest.raises(IdempotencyInProgress):
            _send(scope, Calls(), now=T0 + timedelta(seconds=1))  # the double click, while the first runs
        return 201, {"id": 1}

    assert _send(scope, slow).replayed is False


@pytest.mark.parametrize("refusal", [
    ValidationError({"name": ["Taken."]}), Invalid({"name": ["Taken."]}), UpstreamRefused({"name": ["Taken."]}),
    Http404(), NotFound(), PermissionDenied(), NotAllowed(),
])
def test_a_refusal_releases_the_key_so_the_corrected_request_may_use_it(scope, refusal):
    with pytest.raises(type(refusal)):
        _send(scope, Calls(raises=refusal))
    assert _record() is None
    fixed = _send(scope, Calls(), body={"name": "corrected"})
    assert fixed.replayed is False and fixed.status == 201


@pytest.mark.parametrize("never_reached", [
    AuthFailed("Unauthorized", status=401),  # refused at the door
    RateBudgetExhausted("local budget"),  # never sent
    UpstreamUnavailable("refused before sending", reached_upstream=False),
])
def test_a_pool_error_that_certainly_wrote_nothing_releases_the_key(scope, never_reached):
    with pytest.raises(type(never_reached)):
        _send(scope, Calls(raises=never_reached))
    assert _record() is None


@pytest.mark.parametrize("maybe_landed", [
    PoolUnavailable("timeout"),  # no answer: the pool may have created it
    RateLimited("429", status=429),
    ValidationFailed("400", status=400, code=0),
    UnexpectedResponse("302", status=302),
    UpstreamUnavailable("lost"),
    RuntimeError("the process crashed mid-write"),
])
def test_a_failure_that_may_have_written_marks_the_outcome_unknown_and_the_retry_looks_first(scope, maybe_landed):
    with pytest.raises(type(maybe_landed)):
        _send(scope, Calls(raises=maybe_landed))
    assert _record().state == IdempotencyRecord.State.UNKNOWN
    with pytest.raises(IdempotencyKeyReused):  # it may have landed: the key is not free for another request
        _send(scope, Calls(), body={"name": "b"})
    retry = Calls()
    result = _send(scope, retry, now=T0 + timedelta(minutes=1))
    assert result.replayed is False and retry.attempts[0].outcome_unknown_since is not None
    assert _record().state == IdempotencyRecord.State.DONE and _record().attempts == 2


def test_a_refused_retry_after_an_unknown_attempt_stays_unknown(scope):
    with pytest.raises(PoolUnavailable):
        _send(scope, Calls(raises=PoolUnavailable("timeout")))
    with pytest.raises(ValidationError):
        _send(scope, Calls(raises=ValidationError("bad")), now=T0 + timedelta(minutes=1))
    assert _record().state == IdempotencyRecord.State.UNKNOWN  # the first attempt may still land


def test_the_caller_names_its_own_refusals(scope):
    class SerializerRefused(Exception):
        pass

    with pytest.raises(SerializerRefused):
        _send(scope, Calls(raises=SerializerRefused()), nothing_written=(SerializerRefused,))
    assert _record() is None
    with pytest.raises(SerializerRefused):
        _send(scope, Calls(raises=SerializerRefused()))
    assert _record().state == IdempotencyRecord.State.UNKNOWN


def test_the_pool_errors_are_domain_errors_that_say_whether_they_reached_the_pool():
    assert issubclass(WhiteBitError, UpstreamUnavailable)
    assert failure_releases_key(AuthFailed("x", status=403)) and failure_releases_key(RateBudgetExhausted("x"))
    assert not failure_releases_key(PoolUnavailable("x")) and not failure_releases_key(ValidationFailed("x"))
    assert (AuthFailed("x").error_code, PoolUnavailable("x").error_code, ValidationFailed("x").error_code) == (
        "upstream_auth_failed", "upstream_unavailable", "upstream_error")
    assert isinstance(NotFound(), Http404) and isinstance(NotAllowed(), PermissionDenied)
    assert UpstreamRefused({"name": ["Taken."]}).fields == {"name": ["Taken."]} and UpstreamRefused("x").upstream
