"""Times in the reader's own zone, with the zone visible: `{{ value|when }}` and `{% tz_name %}`.

The middleware (portal/timezones.py) activates the zone; these only format. The exact UTC instant stays in the
`<time datetime>` attribute and the tooltip, so nothing is lost for people who compare with the pool's UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

register = template.Library()


@register.filter
def when(value: datetime | None, fmt: str = "Y-m-d H:i") -> str:
    """2026-11-15 17:00 UTC shown to a Tokyo user: "2026-11-16 02:00 JST" (UTC in the title)."""
    if value is None:
        return "–"
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    local = timezone.localtime(value)
    utc = value.astimezone(UTC)
    # The default format by strftime: a table shows 100 of these, and Django's generic formatter was a tenth of
    # the workers page's server time (docs/BENCHMARKS.md §6).
    shown = local.strftime("%Y-%m-%d %H:%M") if fmt == "Y-m-d H:i" else date_format(local, fmt)
    return format_html('<time datetime="{}" title="{} UTC">{} {}</time>', utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
                       utc.strftime("%Y-%m-%d %H:%M"), shown, zone_abbreviation(local))


def zone_abbreviation(local: datetime) -> str:
    """JST, EST, CET, or the offset (+04) where the zone has no letters; never empty."""
    return local.tzname() or local.strftime("%z")


@register.simple_tag
def tz_name() -> str:
    """The active zone's full name (Asia/Tokyo), for column headers and chart captions."""
    return timezone.get_current_timezone_name()
