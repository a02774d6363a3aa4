"""Classification of pool responses: HTTP status first, then `code`; retryable only where waiting can help."""

from __future__ import annotations

import pytest

from mining.whitebit.errors import (
    AuthFailed,
    InvalidPayload,
    RateBudgetExhausted,
    RateLimited,
    TimestampRejected,
    UnexpectedResponse,
    UpstreamUnavailable,
    ValidationFailed,
    WhiteBitError,
    error_from_response,
)

CASES = [
    (400, {"code": 0, "message": "Validation failed", "errors": {"limit": ["validation.max.integer"]}},
     ValidationFailed, False),
    (400, {"code": 9, "message": "Invalid payload."}, InvalidPayload, False),
    (400, {"code": 10, "message": "Unauthorized request."}, AuthFailed, False),
    (400, None, ValidationFailed, False),
    (401, {"code": 10, "message": "Unauthorized request."}, AuthFailed, False),
    (401, {"code": 2, "message": "This action is unauthorized. Enable your key in API settings"}, AuthFailed, False),
    (401, {"code": 4, "message": "This API Key is not authorized to perform this action."}, AuthFailed, False),
    (403, {"code": 0, "message": "You don't have permission to use this endpoint."}, AuthFailed, False),
    (401, None, AuthFailed, False),
    (422, {"code": 422, "message": "Incorrect timestamp"}, TimestampRejected, False),
    (429, None, RateLimited, True),
    (429, {"code": 0, "errors": {}, "message": "Too many requests."}, RateLimited, True),
    (500, {"error": ["Internal server error."]}, UpstreamUnavailable, True),
    (502, None, UpstreamUnavailable, True),
    (503, None, UpstreamUnavailable, True),
    (404, None, UnexpectedResponse, False),
    (302, None, UnexpectedResponse, False),
    (418, {"code": 0}, UnexpectedResponse, False),
]


@pytest.mark.parametrize(("status", "body", "cls", "retryable"), CASES)
def test_classification(status, body, cls, retryable):
    err = error_from_response(status, body, endpoint="/api/v4/mining/rewards")
    assert type(err) is cls
    assert isinstance(err, WhiteBitError)
    assert err.retryable is retryable
    assert err.status == status
    assert err.endpoint == "/api/v4/mining/rewards"
    assert err.user_message  # always something to show


def test_field_errors_and_helpers():
    err = error_from_response(400, {"code": 0, "message": "Validation failed",
                                    "errors": {"user": ["Mining pool account 'x' not found"]}})
    assert isinstance(err, ValidationFailed)
    assert err.field_errors == {"user": ["Mining pool account 'x' not found"]}
    assert err.is_account_not_found and not err.is_name_taken
    assert "does not know this mining account" in err.user_message

    for body_errors in ({"account": ["Account not found"]}, {"user": ["Mining account not found."]}):
        assert error_from_response(400, {"code": 0, "errors": body_errors}).is_account_not_found

    taken = error_from_response(400, {"code": 0, "errors": {"name": ["The name has already been taken."]}})
    assert taken.is_name_taken and "already taken" in taken.user_message

    cap = error_from_response(400, {"code": 0, "errors": {"user": ["Limit exceeded"]}})
    assert cap.is_limit_exceeded and "watcher links" in cap.user_message
    max_accounts = {"code": 0, "errors": {"error": ["miningPool.validation.maxAccounts"]}}
    assert error_from_response(400, max_accounts).is_limit_exceeded


def test_user_messages_translate_keys():
    bad_addr = error_from_response(400, {"code": 0, "errors": {
        "address": ["miningPool.validation.payoutDestination.invalidBtcAddress"]}})
    assert "not a valid Bitcoin address" in bad_addr.user_message
    limit = error_from_response(400, {"code": 0, "errors": {"limit": ["validation.max.integer"]}})
    assert limit.user_message == "The page size is too large."
    unknown_key = error_from_response(400, {"code": 0, "errors": {"destination": ["miningPool.validation.newThing"]}})
    assert "miningPool.validation.newThing" in unknown_key.user_message
    assert "enable it (and the Mining Pool permission)" in error_from_response(401, {"code": 2}).user_message
    assert "API secret" in error_from_response(401, {"code": 10}).user_message


def test_tolerates_odd_envelopes():
    old = error_from_response(429, {"message": [["Too many requests."]], "result": [], "success": False})
    assert isinstance(old, RateLimited) and "Too many requests." in old.message
    weird = error_from_response(400, {"code": "0", "errors": ["not a dict"], "message": None})
    assert isinstance(weird, ValidationFailed) and weird.code is None and weird.field_errors == {}
    assert error_from_response(400, ["a list"]).message == "HTTP 400"


def test_budget_exhausted_is_a_retryable_rate_limit():
    err = RateBudgetExhausted("slow down")
    assert isinstance(err, RateLimited) and err.retryable and err.status is None
