"""Field validation the way the pool does it: Laravel rules, every failure collected, the pool's exact messages.

Why: the client maps the pool's field errors to form fields and user messages, so the sandbox must word them as
the pool does (including the raw translation keys it leaks for `limit`/`offset`, contract §3.3).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from mining.whitebit.sandbox.http import validation_failed

NAME_RE = re.compile(r"[a-zA-Z0-9_]+")  # used with fullmatch: "$" would let a trailing newline through

_LABELS = {"accountName": "account name", "liveUntil": "live until", "referralCode": "referral code"}


class Errors:
    """Field errors collected Laravel-style: every rule is checked and all failures come back at once."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(message)

    def raise_if_any(self) -> None:
        if self.fields:
            raise validation_failed(self.fields)


def _label(name: str) -> str:
    return _LABELS.get(name, name)


def is_int_like(value: Any) -> bool:
    """An int (not a bool) or a string of at most 19 digits, optionally negative."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,19}", value) is not None


def string_field(
    body: dict[str, Any],
    name: str,
    errors: Errors,
    *,
    required: bool,
    max_len: int = 255,
    pattern: re.Pattern | None = None,
) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            errors.add(name, f"The {_label(name)} field is required.")
        return None
    if not isinstance(value, str):
        errors.add(name, f"The {_label(name)} field must be a string.")
        return None
    if len(value) > max_len:
        errors.add(name, f"The {_label(name)} field must not be greater than {max_len} characters.")
        return None
    if pattern is not None and not pattern.fullmatch(value):
        errors.add(name, f"The {_label(name)} format is invalid.")
        return None
    return value


def enum_field(
    body: dict[str, Any], name: str, errors: Errors, choices: Iterable[str], *, default: str | None
) -> str | None:
    value = body.get(name)
    if value is None:
        if default is None:
            errors.add(name, f"The {_label(name)} field is required.")
        return default
    if not isinstance(value, str) or value not in choices:
        errors.add(name, f"The selected {_label(name)} is invalid.")
        return None
    return value


def page_field(body: dict[str, Any], name: str, errors: Errors, *, default: int, low: int, high: int) -> int:
    """limit/offset with the pool's raw translation keys (contract §3.3)."""
    value = body.get(name)
    if value is None:
        return default
    if not is_int_like(value):
        errors.add(name, "validation.integer")
        return default
    number = int(value)
    if number < low:
        errors.add(name, "validation.min")
    elif number > high:
        errors.add(name, "validation.max.integer" if name == "limit" else "validation.max")
    return number
