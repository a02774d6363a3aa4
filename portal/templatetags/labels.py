"""Label tags on table rows: `{% label_tags labels inherited show_none %}`.

A tag rather than an included template: a workers page shows 100 rows, and an `{% include %}` per row (a new
context and a template render each) doubled that page's server time (docs/BENCHMARKS.md §6).
"""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def label_tags(labels: Iterable = (), inherited: Iterable = (), show_none: bool = False) -> SafeString:
    """The account's labels (marked as set on the account) then the row's own, each with its kind for screen
    readers; "–" when asked and there are none."""
    inherited, labels = list(inherited or ()), list(labels or ())
    html = format_html_join(
        "", '<span class="tag tag-{}" title="{}, set on the account"><span class="skip">{} (account): </span>{}</span>',
        ((lb.kind, lb.get_kind_display(), lb.get_kind_display(), lb.name) for lb in inherited),
    ) + format_html_join(
        "", '<span class="tag tag-{}" title="{}"><span class="skip">{}: </span>{}</span>',
        ((lb.kind, lb.get_kind_display(), lb.get_kind_display(), lb.name) for lb in labels),
    )
    if show_none and not labels and not inherited:
        return format_html('<span class="muted">–</span>')
    return html
