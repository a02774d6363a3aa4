"""ALLOWED_HOSTS that also accept the custom domains providers configured, and nothing else.

Why a list that asks the database: a provider adds its domain in the console, and a restart per new domain would
be an operator's chore; Django reads ALLOWED_HOSTS by iterating it on every request (`validate_host`), so this
list yields the configured hosts and then the providers' domains (tenants.brand.provider_domains, cached for a
minute, cleared on a change). It fails closed: whenever the domains cannot be read (settings still loading, the
database down, a test that forbids queries) it is exactly the configured hosts. Production's own checks see the
configured hosts only (never `*`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

logger = logging.getLogger(__name__)


def _provider_domains() -> frozenset[str]:
    try:
        from django.apps import apps

        if not apps.ready:
            return frozenset()
        from tenants.brand import provider_domains

        return provider_domains()
    except Exception:  # any failure to read them means: accept no custom domain now (fail closed)
        logger.warning("custom domains could not be read; only ALLOWED_HOSTS are accepted", exc_info=True)
        return frozenset()


class ProviderDomainHosts(list):
    """The configured hosts, then every provider's custom domain. Iterating (what Django does) sees both; `len()`
    and indexing see the configured ones; a copy (`list(...)`) is a snapshot taken at that moment."""

    def __iter__(self) -> Iterator[str]:
        yield from super().__iter__()
        configured = set(super().__iter__())
        yield from sorted(_provider_domains() - configured)

    def __contains__(self, host: object) -> bool:
        return any(h == host for h in self)
