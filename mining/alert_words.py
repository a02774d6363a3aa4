"""Words people read in alert messages: durations, shares and hashrates in words, times in the reader's zone."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta
from decimal import Decimal


def duration_words(delta: timedelta | float) -> str:
    """'less than a minute', '1 minute', '12 minutes', '2 hours 5 minutes', '3 days 4 hours'."""
    seconds = int(delta.total_seconds() if isinstance(delta, timedelta) else delta)
    if seconds < 60:
        return "less than a minute"

    def unit(n: int, word: str) -> str:
        return f"{n} {word}" if n == 1 else f"{n} {word}s"

    minutes = seconds // 60
    if minutes < 60:
        return unit(minutes, "minute")
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return unit(hours, "hour") + (f" {unit(minutes, 'minute')}" if minutes else "")
    days, hours = divmod(hours, 24)
    return unit(days, "day") + (f" {unit(hours, 'hour')}" if hours else "")


def hashrate_words(value: Decimal | int | float) -> str:
    """1.01 PH/s, 950.00 TH/s: the largest unit the value reaches, two decimals."""
    value = Decimal(value)
    units = [("EH/s", Decimal(10) ** 18), ("PH/s", Decimal(10) ** 15), ("TH/s", Decimal(10) ** 12),
             ("GH/s", Decimal(10) ** 9), ("MH/s", Decimal(10) ** 6)]
    for name, size in units:
        if abs(value) >= size:
            return f"{(value / size).quantize(Decimal('0.01'))} {name}"
    return f"{value.quantize(Decimal('0.01'))} H/s"


def share_words(bps: int) -> str:
    """5000 -> '50 %', 7550 -> '75.5 %'."""
    text = f"{Decimal(bps) / 100:.2f}"
    return text.rstrip("0").rstrip(".") + " %"


def zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def when_words(at: datetime, tz_name: str) -> str:
    """'14:03 CET, 4 Dec 2026': the reader's zone, named, so nobody converts from UTC in their head."""
    local = at.astimezone(zone(tz_name))
    return f"{local:%H:%M} {local.tzname()}, {local.day} {local:%b %Y}"
