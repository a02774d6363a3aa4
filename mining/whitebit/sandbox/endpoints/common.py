"""What several endpoints share: the `account` lookup, the from/to rules (422) and the default series window.

Why here: the pool applies these rules identically on every endpoint that takes them, so they are written once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mining.whitebit.sandbox.fields import Errors, is_int_like, string_field
from mining.whitebit.sandbox.http import incorrect_timestamp, validation_failed
from mining.whitebit.sandbox.worker_model import INTERVAL_SECONDS

if TYPE_CHECKING:
    from mining.whitebit.sandbox.app import SandboxApp

DEFAULT_POINTS = 14


def require_account(app: SandboxApp, body: dict[str, Any], *, extra: Callable[[Errors], None] | None = None) -> str:
    """`account` required; an unknown one is the miners/workers/watcher "not found" error under `user`."""
    errors = Errors()
    account = string_field(body, "account", errors, required=True)
    if extra is not None:
        extra(errors)
    errors.raise_if_any()
    assert account is not None
    if not app.state.account_exists(account):
        raise validation_failed({"user": [f"Mining pool account '{account}' not found"]})
    return account


def timestamps(
    app: SandboxApp, body: dict[str, Any], *, max_window: dict[str, int] | None, interval: str | None
) -> tuple[int | None, int | None]:
    """from/to after the 422 rules: integers, not negative, not in the future, from <= to, window <= max."""
    limit = max(int(app.real_now()), app.data_now()) + app.config.clock_skew_s
    parsed: list[int | None] = []
    for name in ("from", "to"):
        value = body.get(name)
        if value is None:
            parsed.append(None)
            continue
        if not is_int_like(value):
            raise incorrect_timestamp()
        number = int(value)
        if number < 0 or number > limit:
            raise incorrect_timestamp()
        parsed.append(number)
    start, end = parsed
    if start is not None and end is not None and start > end:
        raise incorrect_timestamp()
    if max_window is not None and interval is not None and start is not None:
        effective_end = end if end is not None else app.data_now()
        if effective_end - start > max_window[interval]:
            raise incorrect_timestamp()
    return start, end


def series_starts(app: SandboxApp, interval: str, start: int | None, end: int | None) -> range:
    """The buckets to report: from/to as given, else the newest DEFAULT_POINTS complete ones."""
    now = app.data_now()
    end = end if end is not None else now
    if start is None:
        last = app.fleet.latest_bucket_start(interval, end, now)
        start = last - (DEFAULT_POINTS - 1) * INTERVAL_SECONDS[interval]
    return app.fleet.bucket_starts(interval, start, end, now)
