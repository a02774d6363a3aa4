"""Guards for `seed_demo`: a demo is never seeded in production, and never over a provider it did not create.

Why: the command writes upstream credentials and adds an owner whose password is printed ("demo" by default).
Run with a real provider's slug, it would overwrite that provider's WhiteBIT key and open its console to anyone
who read the README. So a provider counts as a demo only if the audit log says `seed_demo` created it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from tenants.access import scope_for_system, scoped
from tenants.audit import audit_record, audit_snapshot
from tenants.models import AuditEntry, Provider
from tenants.validators import validate_upstream_url

DEMO_ACTOR = "command:seed_demo"
DEMO_CREATED = "provider.create"


def demo_refuse_in_production() -> None:
    if settings.IS_PRODUCTION:
        raise CommandError("seed_demo does not run in production (DJANGO_ENV=production): it creates logins with "
                           "a known password. Create providers and users from the admin instead.")


def demo_upstream_problems(upstream: str) -> list[str]:
    """The model's own rule for upstream URLs, as the command's field-by-field errors."""
    try:
        validate_upstream_url(upstream)
    except ValidationError as exc:
        return [f"--upstream: {message}" for message in exc.messages]
    return []


def demo_provider_is_demo(provider: Provider) -> bool:
    scope = scope_for_system(provider_id=provider.pk, actor=DEMO_ACTOR)
    return scoped(AuditEntry, scope).filter(
        action=DEMO_CREATED, actor_label=DEMO_ACTOR, object_type="tenants.provider", object_id=str(provider.pk)
    ).exists()


def demo_provider_get(slug: str) -> Provider | None:
    """The demo provider of this slug, None if there is none yet; refuses a provider seed_demo did not create."""
    provider = Provider.objects.filter(slug=slug).first()
    if provider is not None and not demo_provider_is_demo(provider):
        raise CommandError(f"--slug: the provider “{slug}” was not created by seed_demo; it is left untouched. "
                           "Choose another --slug for the demo (a demo seeded before this check: "
                           "`make clean` resets the embedded database).")
    return provider


def demo_provider_upstream_set(provider: Provider, *, upstream: str) -> None:
    """Point the demo at another sandbox (its credentials are set, and audited, by provider_credentials_set)."""
    before = audit_snapshot(provider, ["upstream_base_url"])
    provider.upstream_base_url = upstream
    provider.full_clean()
    provider.save(update_fields=["upstream_base_url"])
    audit_record(scope=scope_for_system(provider_id=provider.pk, actor=DEMO_ACTOR), action="provider.update",
                 target=provider, before=before, after=audit_snapshot(provider, ["upstream_base_url"]))
