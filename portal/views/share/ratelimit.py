"""The share pages' rate limit: a fixed one-minute window per client address, counted in the default cache.

Why in the cache and not in process memory: the web runs as several gunicorn processes (and hosts); Redis gives them
one count, so the limit is the limit whatever process answers. A visit is counted before its token is looked up, so
guessing tokens costs the same as reading a page.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

WINDOW_S = 60


def share_rate_exceeded(request: HttpRequest, *, now: float | None = None) -> int:
    """0 when the visit may go on, else the seconds until the window ends (for Retry-After)."""
    limit = settings.SHARE_PAGE_RATE_PER_MINUTE
    now = time.time() if now is None else now
    window = int(now // WINDOW_S)
    key = f"share-rate:{request.META.get('REMOTE_ADDR', '')}:{window}"
    cache.add(key, 0, timeout=WINDOW_S * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # the key expired between add and incr: this visit opens the window
        cache.add(key, 1, timeout=WINDOW_S * 2)
        count = 1
    if count > limit:
        return max(1, int((window + 1) * WINDOW_S - now))
    return 0
