"""Rules from above that an account move must obey, behind an interface mining owns.

Why a registry: a move may not reach into a month that billing has closed (a closed month's rows never change
hands), but billing sits above mining (`portal -> billing -> mining -> tenants`, checked by `lint-imports`), so
mining cannot ask billing directly. Mining says what it needs to know, "is the month of this day, or a later one,
closed for this provider?", and billing registers its answer in `BillingConfig.ready()`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

MonthClosedCheck = Callable[[int, date], bool]

_month_closed_checks: list[MonthClosedCheck] = []


def month_closed_check_register(check: MonthClosedCheck) -> None:
    """Add a check (called with the provider's id and a day); registering the same one twice keeps one."""
    if check not in _month_closed_checks:
        _month_closed_checks.append(check)


def month_closed_from(provider_id: int, day: date) -> bool:
    """Whether any registered check says the month of `day`, or a later one, is closed for the provider."""
    return any(check(provider_id, day) for check in _month_closed_checks)
