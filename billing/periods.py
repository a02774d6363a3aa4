"""Billing periods: calendar months of the pool's UTC settlement days."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError

SLOT = timedelta(minutes=5)  # the pool's finest hashrate point; uptime is counted in these


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(period: date) -> date:
    """The first day of the next month (periods are half-open: [period, month_end))."""
    return (period.replace(day=28) + timedelta(days=4)).replace(day=1)


def days_in_month(period: date) -> int:
    return calendar.monthrange(period.year, period.month)[1]


def month_parse(value: str, *, field: str = "period") -> date:
    """'YYYY-MM' to the month's first day; a clear field error otherwise."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}", value.strip()):
        raise ValidationError({field: f"“{value}” is not a month; write it as YYYY-MM, e.g. 2026-10."})
    year, month = (int(p) for p in value.strip().split("-"))
    if not 1 <= month <= 12 or year < 2009:
        raise ValidationError({field: f"“{value}” is not a month; write it as YYYY-MM, e.g. 2026-10."})
    return date(year, month, 1)


def day_start_at(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def previous_month(today: date) -> date:
    return month_start(month_start(today) - timedelta(days=1))
