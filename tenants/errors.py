"""The product's own errors, raised by services and mapped to HTTP once for the API (portal/api/exceptions.py) and
once for pages (portal/errors.py): a service says what went wrong, never which status code or page shows it.

Why they subclass Django's types: code written before them (and Django's own handlers, DRF's, `get_in_scope`)
already answers `Http404` with a 404, `PermissionDenied` with a 403 and `ValidationError` with field errors; a
`NotFound` is one of each, so nothing that catches the old types changes behaviour while services move over.

The pool's errors (mining/whitebit/errors.py, the `WhiteBitError` family) are `UpstreamUnavailable`s: each one says
in a provider's words what happened (`user_message`), whether waiting can help (`retryable`) and whether the pool
may have acted on the request (`reached_upstream`, which decides release vs "outcome unknown" in
tenants/idempotency.py). A field the pool refused is an `UpstreamRefused`, a field error like ours.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404


class DomainError(Exception):
    """A base for "what went wrong" in our words; the mappers look only at these types."""


class NotFound(DomainError, Http404):
    """Missing *or* someone else's: the same answer, so an outsider learns nothing."""

    def __init__(self, message: str = "Not found") -> None:
        super().__init__(message)


class NotAllowed(DomainError, PermissionDenied):
    """The caller's role (or token) does not allow this action."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)


class Invalid(DomainError, ValidationError):
    """Bad input, field by field (`Invalid({"name": ["..."]})`) or as one message; nothing was written."""

    upstream = False

    @property
    def fields(self) -> dict[str, list[str]]:
        return self.message_dict if hasattr(self, "error_dict") else {"non_field_errors": self.messages}


class UpstreamRefused(Invalid):
    """The pool refused a field: a field error (in words) that came from upstream; nothing was written there."""

    upstream = True


class UpstreamUnavailable(DomainError):
    """The pool did not do what was asked: not reachable, limiting us, refusing the key, or answering wrongly.

    `retryable`: waiting can help (the API says 503 and `Retry-After`, pages say "try again"). `reached_upstream`:
    the request may have reached the pool and been acted on, so a retry must look upstream before writing again;
    False only when it certainly was not (refused at the door, or never sent). `error_code` is the API's code.
    """

    retryable: bool = True
    reached_upstream: bool = True
    default_user_message = "WhiteBIT's mining pool API is not reachable right now; the portal will try again shortly."

    def __init__(self, message: str = "", *, retryable: bool | None = None,
                 reached_upstream: bool | None = None) -> None:
        super().__init__(message or self.default_user_message)
        if retryable is not None:
            self.retryable = retryable
        if reached_upstream is not None:
            self.reached_upstream = reached_upstream

    @property
    def user_message(self) -> str:
        return self.default_user_message if not self.args else str(self.args[0])

    @property
    def error_code(self) -> str:
        return "upstream_unavailable" if self.retryable else "upstream_error"
