"""Per-token throttling on the default cache: Redis in every real deployment, process memory when embedded."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class PerCallerRateThrottle(SimpleRateThrottle):
    """One bucket per token (or per signed-in user): a busy integration cannot starve another one."""

    scope = "api"
    cache_format = "api-throttle:%(scope)s:%(ident)s"

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATE  # read per request, so an operator (or a test) can change it

    def get_cache_key(self, request, view):
        token = getattr(request.user, "token", None)
        ident = f"token-{token.pk}" if token is not None else f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
