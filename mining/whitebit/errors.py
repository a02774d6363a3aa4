"""Errors raised by the WhiteBIT client, classified by HTTP status first and `code` second (contract §4).

Message strings from the pool are informational only: some are English sentences, some are raw translation keys,
and either may be localised. So every decision here (which class, whether a retry can help) looks at the status
and the numeric `code`; `user_message` translates the known keys into words a hosting provider understands.

`retryable` is the single flag the sync layer and Celery tasks act on: only rate limiting, 5xx, timeouts,
connection failures and malformed success bodies can get better by waiting. Everything else is permanent for the
same request, and retrying it only burns rate budget (and, for auth errors, risks the key being restricted).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tenants import errors as domain

#: Auth `code`s the pool uses (§4.2). 2: key disabled or IP not allowed; 4: key lacks rights; 10: bad signature.
AUTH_CODES = frozenset({2, 4, 10})
INVALID_PAYLOAD_CODE = 9

_TRANSLATION_KEY = re.compile(r"^[A-Za-z]+(\.[A-Za-z]+)+$")

# Known translation keys and bare messages, in a provider's words. Keys not listed fall back to a generic sentence.
_KNOWN_MESSAGES: dict[str, str] = {
    "miningPool.validation.maxAccounts": (
        "WhiteBIT's limit on mining accounts for this API key's user has been reached; "
        "reuse an existing mining account or ask WhiteBIT to raise the limit."
    ),
    "miningPool.validation.payoutDestination.invalidBtcAddress": (
        "That is not a valid Bitcoin address (it must start with 1, 3 or bc1)."
    ),
    "miningPool.validation.payoutDestination.btcAddressRequired": (
        "A Bitcoin address is required to pay out to an external address."
    ),
    "miningPool.validation.payoutDestination.customCurrencyConflict": (
        "WhiteBIT refused this payout destination because it conflicts with the account's payout currency."
    ),
    "Limit exceeded": (
        "This mining account already has the maximum number of active watcher links; "
        "wait for one to expire before creating another."
    ),
    "The name has already been taken.": "That mining account name is already taken on WhiteBIT; choose another.",
    "The name format is invalid.": "The name may contain only letters, digits and underscores.",
}

_RULE_WORDS: dict[str, str] = {
    "validation.max": "is too large",
    "validation.max.integer": "is too large",
    "validation.max.string": "is too long",
    "validation.min": "is too small",
    "validation.min.integer": "is too small",
    "validation.integer": "must be a whole number",
    "validation.required": "is required",
    "validation.string": "must be text",
    "validation.in": "is not one of the allowed values",
}

_FIELD_WORDS: dict[str, str] = {
    "limit": "page size",
    "offset": "page offset",
    "name": "name",
    "account": "mining account",
    "accounts": "mining accounts",
    "user": "mining account",
    "address": "payout address",
    "destination": "payout destination",
    "permissions": "permissions",
    "liveUntil": "link lifetime",
    "referralCode": "referral code",
    "interval": "interval",
    "worker": "worker",
}


class WhiteBitError(domain.UpstreamUnavailable):
    """Base class. `status` is None when no HTTP response arrived (timeout, connection error, local budget).

    A domain `UpstreamUnavailable` (tenants/errors.py), so pages and the API map every pool error in one place.
    `reached_upstream` is False only where the pool certainly did not act on the request (see AuthFailed and
    RateBudgetExhausted): an idempotent write then releases its key instead of marking the outcome unknown.
    """

    retryable: bool = False
    reached_upstream: bool = True
    default_user_message = "WhiteBIT's mining pool API returned an unexpected error."

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        field_errors: Mapping[str, list[str]] | None = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.field_errors: dict[str, list[str]] = {k: list(v) for k, v in (field_errors or {}).items()}
        self.endpoint = endpoint

    @property
    def user_message(self) -> str:
        return self.default_user_message

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.code is not None:
            parts.append(f"code={self.code}")
        if self.endpoint:
            parts.append(f"endpoint={self.endpoint}")
        if self.field_errors:
            parts.append(f"errors={self.field_errors}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self!s})"


class ValidationFailed(WhiteBitError):
    """HTTP 400 with `code: 0`: the pool rejected a field. Permanent for the same arguments."""

    default_user_message = "WhiteBIT rejected the request."

    def messages_for(self, *fields: str) -> list[str]:
        return [m for f in fields for m in self.field_errors.get(f, [])]

    @property
    def is_account_not_found(self) -> bool:
        """The pool says "not found" under `user` or `account`, in several wordings (§3.4, §3.5, §3.7)."""
        return any("not found" in m.lower() for m in self.messages_for("user", "account"))

    @property
    def is_name_taken(self) -> bool:
        return any("taken" in m.lower() for m in self.messages_for("name"))

    @property
    def is_limit_exceeded(self) -> bool:
        """Watcher-link cap (`user: Limit exceeded`) or mining-account cap (`error: ...maxAccounts`)."""
        return any("limit exceeded" in m.lower() for m in self.messages_for("user")) or any(
            "maxaccounts" in m.lower() for m in self.messages_for("error")
        )

    @property
    def user_message(self) -> str:
        if self.is_account_not_found:
            return (
                "WhiteBIT does not know this mining account under the configured API key: check the account name "
                "and that it was created with this key."
            )
        sentences = []
        for field, messages in self.field_errors.items():
            for raw in messages:
                sentences.append(_field_message_words(field, raw))
        if not sentences:
            return self.default_user_message
        return " ".join(dict.fromkeys(sentences))


class InvalidPayload(WhiteBitError):
    """HTTP 400 `code: 9`: the body did not match the signed payload. A client bug, not something to retry."""

    default_user_message = (
        "WhiteBIT could not read the request the portal sent (invalid payload). This is a bug in the portal; "
        "please report it."
    )


class TimestampRejected(WhiteBitError):
    """HTTP 422 "Incorrect timestamp" on rewards and hashrate: the time range itself is unacceptable."""

    default_user_message = (
        "WhiteBIT rejected the time range: it must not be in the future, 'from' must be before 'to', and the "
        "window must not exceed the pool's maximum for the chosen interval."
    )


class AuthFailed(WhiteBitError):
    """HTTP 401/403, or an auth `code` (2, 4, 10). Never retried: the key or secret must change first."""

    reached_upstream = False  # refused at the door: nothing was written
    error_code = "upstream_auth_failed"

    @property
    def user_message(self) -> str:
        if self.code == 10:
            return (
                "WhiteBIT rejected the request signature: check that the API secret belongs to this API key "
                "(re-enter both from your WhiteBIT API settings)."
            )
        if self.code == 4 or self.status == 403:
            return (
                "This WhiteBIT API key is not allowed to use the Mining Pool endpoints: enable the Mining Pool "
                "permission (and these endpoints) for the key in your WhiteBIT API settings."
            )
        return (
            "WhiteBIT rejected the API key: enable it (and the Mining Pool permission) in your WhiteBIT API settings. "
            "Keys are disabled after 14 days without use or when 2FA is turned off, and may be limited to certain IPs."
        )


class RateLimited(WhiteBitError):
    """HTTP 429, with a gateway body or the JSON `code: 0` body (a nonce replay looks the same). Retryable."""

    retryable = True
    default_user_message = "WhiteBIT is limiting how fast the portal may call it; the request will be retried shortly."


class RateBudgetExhausted(RateLimited):
    """Our own shared budget could not grant a request within the allowed wait; nothing was sent upstream."""

    reached_upstream = False


class UpstreamUnavailable(WhiteBitError):
    """5xx, timeouts, connection failures (and, as `MalformedReply`, a success body that is not JSON). Retryable."""

    retryable = True
    default_user_message = "WhiteBIT's mining pool API is not reachable right now; the portal will try again shortly."


class MalformedReply(UpstreamUnavailable):
    """The pool answered 2xx, but the body is not the JSON object it documents (truncated, not JSON, not an object).

    Retryable like an outage (a cut-off body is usually a proxy or load-balancer hiccup), but named as what it is:
    the pool *was* reachable and answered wrongly, which is a different thing to check than a network problem.
    """

    default_user_message = (
        "WhiteBIT's mining pool answered with a malformed reply (not the JSON it documents, e.g. cut off); the "
        "portal will try again shortly. If it persists, check the pool URL and any proxy in between."
    )


class UnexpectedResponse(WhiteBitError):
    """A response outside the contract: an unknown status (3xx, 404, other 4xx) or a JSON body of the wrong shape.

    Not retryable: it points at a wrong base URL or an upstream contract change, which waiting does not fix.
    """

    default_user_message = (
        "WhiteBIT answered in a way the portal does not understand (the API may have changed, or the pool URL "
        "is wrong). The portal team has been told."
    )


def _field_message_words(field: str, raw: str) -> str:
    if raw in _KNOWN_MESSAGES:
        return _KNOWN_MESSAGES[raw]
    field_words = _FIELD_WORDS.get(field, field)
    if raw in _RULE_WORDS:
        return f"The {field_words} {_RULE_WORDS[raw]}."
    if _TRANSLATION_KEY.match(raw):
        return f"WhiteBIT rejected the {field_words} ({raw})."
    return raw if raw.endswith(".") else f"{raw}."


def _field_errors_parse(raw: Any) -> dict[str, list[str]]:
    """`errors` is `{field: [msg, ...]}`, but may be absent, `{}`, or (old shape) a list: keep what is usable."""
    if not isinstance(raw, Mapping):
        return {}
    out: dict[str, list[str]] = {}
    for key, value in raw.items():
        if isinstance(value, list):
            out[str(key)] = [str(v) for v in value]
        elif value is not None:
            out[str(key)] = [str(value)]
    return out


def error_from_response(status: int, body: Any, *, endpoint: str | None = None) -> WhiteBitError:
    """Classify a non-2xx response. `body` is the parsed JSON (any type) or None when it was not JSON."""
    envelope = body if isinstance(body, Mapping) else {}
    raw_code = envelope.get("code")
    code = raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else None
    message = envelope.get("message")
    if isinstance(message, list):  # pre-2025 shape: {"message": [["Too many requests."]], ...}
        message = " ".join(str(m) for m in message)
    message = str(message) if message else f"HTTP {status}"
    fields = _field_errors_parse(envelope.get("errors"))
    kw: dict[str, Any] = {"status": status, "code": code, "field_errors": fields, "endpoint": endpoint}

    if status == 429:
        return RateLimited(message, **kw)
    if status >= 500:
        return UpstreamUnavailable(message, **kw)
    if status in (401, 403):
        return AuthFailed(message, **kw)
    if status == 422:
        return TimestampRejected(message, **kw)
    if status == 400:
        if code == INVALID_PAYLOAD_CODE:
            return InvalidPayload(message, **kw)
        if code in AUTH_CODES:
            return AuthFailed(message, **kw)
        return ValidationFailed(message, **kw)
    return UnexpectedResponse(message, **kw)
