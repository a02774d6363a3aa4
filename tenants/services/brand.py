"""Writing a provider's white label (owners and admins: MANAGE_CREDENTIALS, the capability of the provider's own
configuration, which no API token holds). Every change is one audit entry and bumps the brand's version, which is
the cache buster of its stylesheet and images; a domain change also clears the allowed-hosts cache.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tenants.access import Capability, Scope, get_in_scope
from tenants.audit import audit_record
from tenants.brand import (
    FAVICON_BOX,
    FAVICON_MAX_BYTES,
    LOGO_BOX,
    LOGO_MAX_BYTES,
    image_to_png,
    provider_domains_forget,
    validate_colours,
    validate_custom_domain,
)
from tenants.models import Provider
from tenants.models.brand import ProviderBrand

BRAND_TEXT_FIELDS = ("display_name", "accent_colour", "accent_text_colour", "support_email", "support_phone",
                     "support_url", "email_from_name", "email_from_address", "custom_domain")
DOMAIN_TAKEN = "Another provider already uses this domain."


def _brand_locked(scope: Scope) -> ProviderBrand:
    provider = get_in_scope(Provider.objects.select_for_update(), scope, pk=scope.provider_id)
    brand, _ = ProviderBrand.objects.select_for_update().get_or_create(provider=provider)
    return brand


def provider_brand_set(*, scope: Scope, **values: Any) -> ProviderBrand:
    """Set the brand's words, colours, sender and domain (the images have their own call). Bad input raises
    `ValidationError` field by field and changes nothing; colours are refused below WCAG AA contrast."""
    scope.require(Capability.MANAGE_CREDENTIALS)
    unknown = set(values) - set(BRAND_TEXT_FIELDS)
    if unknown:
        raise TypeError(f"not brand fields: {sorted(unknown)}")
    clean = {k: (str(v).strip() if v is not None else "") for k, v in values.items()}
    for key in ("accent_colour", "accent_text_colour"):
        if key in clean:
            clean[key] = clean[key].lower()
    if "accent_text_colour" in clean and not clean["accent_text_colour"]:
        clean["accent_text_colour"] = "#ffffff"
    errors: dict = {}
    if clean.get("custom_domain"):
        try:
            clean["custom_domain"] = validate_custom_domain(clean["custom_domain"])
        except ValidationError as exc:
            errors.update(exc.message_dict)
    elif "custom_domain" in clean:
        clean["custom_domain"] = None
    with transaction.atomic():
        brand = _brand_locked(scope)
        before = {k: getattr(brand, k) for k in clean}
        for key, value in clean.items():
            setattr(brand, key, value)
        try:
            brand.full_clean(exclude=["provider", "logo_png", "favicon_png", "custom_domain"],
                             validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            errors.update({k: v for k, v in exc.message_dict.items() if k not in errors})
        if not errors.keys() & {"accent_colour", "accent_text_colour"}:
            try:
                validate_colours(brand.accent_colour, brand.accent_text_colour)
            except ValidationError as exc:
                errors.update(exc.message_dict)
        if brand.custom_domain and "custom_domain" not in errors and ProviderBrand.objects.filter(
                custom_domain=brand.custom_domain).exclude(pk=brand.pk).exists():
            errors["custom_domain"] = [DOMAIN_TAKEN]
        if errors:
            transaction.set_rollback(True)
            raise ValidationError(errors)
        after = {k: getattr(brand, k) for k in clean}
        if before == after:
            return brand
        brand.version += 1
        try:
            with transaction.atomic():
                brand.save()
        except IntegrityError as exc:  # a concurrent save took the domain between the check and the write
            raise ValidationError({"custom_domain": DOMAIN_TAKEN}) from exc
        audit_record(scope=scope, action="provider.brand_set", target=brand, object_repr="Brand",
                     before=before, after=after)
        if before.get("custom_domain") != after.get("custom_domain"):
            provider_domains_forget()
            transaction.on_commit(provider_domains_forget)  # again once visible: a read meanwhile cached the old set
    return brand


def provider_brand_image_set(*, scope: Scope, kind: str, data: bytes | None) -> ProviderBrand:
    """Replace (or, with `data` None, remove) the logo or the favicon; the upload is re-encoded as PNG first."""
    scope.require(Capability.MANAGE_CREDENTIALS)
    if kind not in ("logo", "favicon"):
        raise ValueError(kind)
    field = f"{kind}_png"
    png = b""
    if data is not None:
        box, limit = (LOGO_BOX, LOGO_MAX_BYTES) if kind == "logo" else (FAVICON_BOX, FAVICON_MAX_BYTES)
        png = image_to_png(data, field=kind, box=box, max_bytes=limit)
    with transaction.atomic():
        brand = _brand_locked(scope)
        had = bool(getattr(brand, field))
        if not had and not png:
            return brand
        setattr(brand, field, png)
        brand.version += 1
        brand.save()
        audit_record(scope=scope, action=f"provider.brand_{kind}_{'set' if png else 'remove'}", target=brand,
                     object_repr="Brand", before={kind: "set" if had else "none"},
                     after={kind: f"PNG, {len(png) // 1024 or 1} KB" if png else "none"})
    return brand
