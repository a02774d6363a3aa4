"""Forms sent once: `OnceForm` carries one hidden key, `write_once` runs the form's write through
tenants.idempotency.idempotent_write (the API's mechanism), so a double click or a resent form writes once.

Every page form that writes once uses these two: one field name (`idempotency_key`), one key generator, one rule
for each failure (the one function's). What a page says differs only in
words, and those are the form's (`reused_words`, `upstream_words`, `errors_from`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from portal.access_forms import form_errors_from
from tenants.access import Scope
from tenants.errors import UpstreamUnavailable
from tenants.idempotency import (
    IdempotencyError,
    IdempotencyInProgress,
    WriteAttempt,
    WriteResult,
    idempotency_wait,
    idempotent_write,
)

ONCE_FIELD = "idempotency_key"
OUT_OF_DATE = "This form is out of date; reload the page."


def new_form_key() -> str:
    """The one-time key a rendered form carries (a retried or doubled POST sends it again)."""
    return uuid.uuid4().hex


class OnceForm(forms.Form):
    """A form sent once: its hidden key makes a double-clicked or retried submit a replay, never a second write.

    A bound form whose key is missing gets a fresh one (the next send is a new request); a key used with other
    values is refused with `reused_words` and renewed, so the corrected form can be sent.
    """

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64,
                                      error_messages={"required": OUT_OF_DATE})
    reused_words = "This form was already sent with other values. Reload the page to send new ones."
    upstream_error: UpstreamUnavailable | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[ONCE_FIELD].initial = new_form_key()

    def full_clean(self) -> None:
        super().full_clean()
        if self.is_bound and ONCE_FIELD in self._errors:
            self.renew_key()

    def renew_key(self) -> None:
        data = self.data.copy()
        data[ONCE_FIELD] = new_form_key()
        self.data = data

    def once_key(self) -> str:
        return self.cleaned_data[ONCE_FIELD]

    def once_body(self) -> dict[str, Any]:
        """What makes two sends the same request: the cleaned values without the key (lists in a stable order)."""
        return {name: sorted(value, key=str) if isinstance(value, list | tuple) else value
                for name, value in self.cleaned_data.items() if name != ONCE_FIELD}

    def errors_from(self, exc: ValidationError) -> None:
        """A service's refusal on the form, field by field (billing forms map the service's units)."""
        form_errors_from(self, exc)

    def upstream_words(self, exc: UpstreamUnavailable) -> str:
        """A pool error in a provider's words, on the form (a page may add what a resend does)."""
        return exc.user_message


@dataclass(frozen=True)
class Sent:
    """What became of a form sent once: `written` now, `replayed` (the first send's answer), or still `running`."""

    state: Literal["written", "replayed", "running"]
    status: int = 0
    body: Any = None


def write_once(request: HttpRequest, scope: Scope, form: OnceForm, write: Callable[[WriteAttempt], tuple[int, Any]],
               *, body: dict[str, Any] | None = None, wait_s: float = 0.0) -> Sent | None:
    """Run `write(attempt)` at most once per the form's key. None: nothing was written and the form carries why
    (a refusal, a pool error, a key reused with other values). `wait_s` > 0 waits that long for a concurrent send
    of the same form (a double click) and answers with its result."""
    try:
        result = idempotent_write(scope=scope, key=form.once_key(), method="POST", path=request.path,
                                  body=form.once_body() if body is None else body, write=write)
    except IdempotencyInProgress:
        first = idempotency_wait(scope=scope, key=form.once_key(), timeout_s=wait_s) if wait_s > 0 else None
        return _sent(first) if first is not None else Sent("running")
    except IdempotencyError:
        form.renew_key()
        form.add_error(None, form.reused_words)
        return None
    except ValidationError as exc:
        form.errors_from(exc)
        return None
    except UpstreamUnavailable as exc:
        form.upstream_error = exc
        form.add_error(None, form.upstream_words(exc))
        return None
    return _sent(result)


def _sent(result: WriteResult) -> Sent:
    return Sent("replayed" if result.replayed else "written", result.status, result.body)
