"""Reading a provider's white label: `brand_for(provider)` is the one selector pages, e-mails and PDFs use.

Also the rules a brand must meet, kept here once so the service, the form and the tests agree: colours in WCAG AA
contrast (text on the accent, and the accent as link text on a white card), images re-encoded by us as PNG, and a
custom domain that is a plain host name. `provider_domains()` is what ALLOWED_HOSTS consults (portal/hosts.py).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from email.utils import formataddr

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError

DEFAULT_NAME = "Mining portal"
DEFAULT_ACCENT, DEFAULT_ACCENT_TEXT, CARD_BACKGROUND = "#0b6bcb", "#ffffff", "#ffffff"
AA_NORMAL_TEXT = 4.5
LOGO_MAX_BYTES, FAVICON_MAX_BYTES = 512 * 1024, 128 * 1024
LOGO_BOX, FAVICON_BOX = (480, 120), (64, 64)
_IMAGE_FORMATS = {"PNG", "JPEG", "GIF", "WEBP", "ICO"}
_HOST = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
DOMAINS_CACHE_KEY = "tenants:brand:domains:v1"
DOMAINS_CACHE_S = 60


@dataclass(frozen=True)
class Brand:
    """What one provider's pages, e-mails and PDFs show. `provider_id` None is the platform's own look."""

    provider_id: int | None
    provider_slug: str
    name: str
    accent: str
    accent_text: str
    has_logo: bool
    has_favicon: bool
    support_email: str
    support_phone: str
    support_url: str
    from_email: str  # the whole From: header, "Name <address>"
    custom_domain: str
    version: int

    @property
    def is_custom(self) -> bool:
        return self.provider_id is not None

    @property
    def has_support(self) -> bool:
        return bool(self.support_email or self.support_phone or self.support_url)

    def _asset(self, name: str) -> str:
        from django.urls import reverse

        return reverse(name, args=[self.provider_slug, self.version])

    @property
    def css_url(self) -> str:
        return self._asset("brand_css") if self.is_custom and self.accent else ""

    @property
    def logo_url(self) -> str:
        return self._asset("brand_logo") if self.has_logo else ""

    @property
    def favicon_url(self) -> str:
        return self._asset("brand_favicon") if self.has_favicon else ""


def brand_default() -> Brand:
    return Brand(None, "", DEFAULT_NAME, "", DEFAULT_ACCENT_TEXT, False, False, "", "", "", settings.DEFAULT_FROM_EMAIL,
                 "", 0)


def _from_header(name: str, address: str) -> str:
    address = address or settings.DEFAULT_FROM_EMAIL
    return formataddr((name, address)) if name else address


def brand_for(provider) -> Brand:
    """The provider's brand, its own name where nothing else is set; the fallbacks are the platform's."""
    from tenants.models.brand import ProviderBrand

    row = (ProviderBrand.objects.filter(provider_id=provider.pk)
           .defer("logo_png", "favicon_png").first())
    if row is None:
        return Brand(provider.pk, provider.slug, provider.name, "", DEFAULT_ACCENT_TEXT, False, False, "", "", "",
                     _from_header(provider.name, ""), "", 0)
    images = ProviderBrand.objects.filter(pk=row.pk).values_list("logo_png", "favicon_png").get()
    name = row.display_name or provider.name
    return Brand(
        provider.pk, provider.slug, name, row.accent_colour, row.accent_text_colour or DEFAULT_ACCENT_TEXT,
        bool(images[0]), bool(images[1]), row.support_email, row.support_phone, row.support_url,
        _from_header(row.email_from_name or name, row.email_from_address), row.custom_domain or "", row.version,
    )


def brand_for_provider_id(provider_id: int) -> Brand:
    from tenants.models import Provider

    provider = Provider.objects.filter(pk=provider_id).only("pk", "slug", "name").first()
    return brand_for(provider) if provider else brand_default()


def brand_image(*, provider_slug: str, kind: str) -> bytes:
    """The stored PNG of a provider's logo or favicon (b"" when none); public like any logo on a sign-in page."""
    from tenants.models.brand import ProviderBrand

    field = {"logo": "logo_png", "favicon": "favicon_png"}[kind]
    value = ProviderBrand.objects.filter(provider__slug=provider_slug).values_list(field, flat=True).first()
    return bytes(value or b"")


def brand_logo_data_uri(provider_id: int) -> str:
    """The logo as a `data:` URI, for documents rendered away from a browser (PDFs): "" when there is none."""
    import base64

    from tenants.models.brand import ProviderBrand

    png = ProviderBrand.objects.filter(provider_id=provider_id).values_list("logo_png", flat=True).first()
    return "data:image/png;base64," + base64.b64encode(bytes(png)).decode() if png else ""


# --- the custom domain ---------------------------------------------------------------------------------------------


def normalise_host(host: str) -> str:
    """'Mining.Example.COM:443' → 'mining.example.com' (the port and a trailing dot are not part of the name)."""
    host = (host or "").strip().lower().rstrip(".")
    if host.startswith("["):
        return host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def validate_custom_domain(value: str) -> str:
    host = normalise_host(value)
    if not _HOST.match(host):
        raise ValidationError({"custom_domain": "Give a host name such as portal.example.com (no https://, path "
                                                "or port)."})
    configured = settings.ALLOWED_HOSTS  # the configured hosts only, not the providers' domains it also yields
    platform = {normalise_host(h) for h in (list.__iter__(configured) if isinstance(configured, list) else configured)
                if h != "*"}
    from urllib.parse import urlsplit

    platform.add(normalise_host(urlsplit(settings.PORTAL_BASE_URL).hostname or ""))
    if host in platform:
        raise ValidationError({"custom_domain": "That is the platform's own address; give your provider's domain."})
    return host


def provider_domains() -> frozenset[str]:
    """Every configured custom domain, cached briefly (a brand change clears it). Fails closed: if the database
    cannot be asked, no custom domain is accepted until it can."""
    cached = cache.get(_domains_key())
    if cached is not None:
        return frozenset(cached)
    from tenants.models.brand import ProviderBrand

    domains = frozenset(ProviderBrand.objects.exclude(custom_domain=None).values_list("custom_domain", flat=True))
    cache.set(_domains_key(), sorted(domains), DOMAINS_CACHE_S)
    return domains


def _domains_key() -> str:
    # Per database: deployments (and parallel test runs) sharing one Redis must never see each other's domains.
    from django.db import connection

    return f"{DOMAINS_CACHE_KEY}:{connection.settings_dict['NAME']}"


def provider_domains_forget() -> None:
    cache.delete(_domains_key())


def brand_for_host(host: str) -> Brand | None:
    """The brand whose custom domain the request came in on, or None (the platform's own host)."""
    host = normalise_host(host)
    if not host or host not in provider_domains():
        return None
    from tenants.models.brand import ProviderBrand

    row = ProviderBrand.objects.select_related("provider").filter(custom_domain=host).first()
    return brand_for(row.provider) if row else None


# --- colours -------------------------------------------------------------------------------------------------------


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2.x contrast ratio of two #rrggbb colours, 1.0–21.0."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def validate_colours(accent: str, accent_text: str) -> None:
    """Refuse colours people could not read: the accent carries button text and is itself link text on cards."""
    if not accent:
        return
    errors = {}
    on_accent = contrast_ratio(accent, accent_text)
    if on_accent < AA_NORMAL_TEXT:
        errors["accent_text_colour"] = (
            f"Text in {accent_text} on {accent} has a contrast of {on_accent:.1f}:1; WCAG AA needs at least "
            f"{AA_NORMAL_TEXT}:1. Pick a darker accent or another text colour.")
    as_link = contrast_ratio(accent, CARD_BACKGROUND)
    if as_link < AA_NORMAL_TEXT:
        errors["accent_colour"] = (
            f"{accent} as link text on a white card has a contrast of {as_link:.1f}:1; WCAG AA needs at least "
            f"{AA_NORMAL_TEXT}:1. Pick a darker accent.")
    if errors:
        raise ValidationError(errors)


# --- images --------------------------------------------------------------------------------------------------------


def image_to_png(data: bytes, *, field: str, box: tuple[int, int], max_bytes: int) -> bytes:
    """Check an upload is a raster image we can read, fit it in `box`, and re-encode it as PNG.

    Why re-encode: what we serve is then pixels we wrote ourselves, never the bytes someone uploaded (an SVG with
    a script, an HTML polyglot, EXIF with a location), and every logo has one content type.
    """
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise ValidationError({field: "Choose an image file."})
    if len(data) > max_bytes:
        raise ValidationError({field: f"The file is {len(data) // 1024} KB; the limit is {max_bytes // 1024} KB."})
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            probe.verify()
        if kind not in _IMAGE_FORMATS:
            raise ValidationError({field: f"Use a PNG, JPEG, GIF, WebP or ICO image (this is {kind})."})
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > 25_000_000:
                raise ValidationError({field: "The image is too large; use one under 5000 × 5000 pixels."})
            image.seek(0)
            picture = image.convert("RGBA")
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise ValidationError({field: "This is not an image the portal can read; use a PNG, JPEG, GIF, WebP or "
                                      "ICO file (SVG is not accepted)."}) from None
    picture.thumbnail(box)
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


# --- reads for the portal's thin layers (which never query models themselves) -------------------------------------


def member_provider_ids(user) -> set[int]:
    """The providers a user belongs to, as staff or through a customer."""
    from tenants.models import CustomerMembership, ProviderMembership

    return (set(ProviderMembership.objects.filter(user=user).values_list("provider_id", flat=True))
            | set(CustomerMembership.objects.filter(user=user).values_list("provider_id", flat=True)))


def brand_for_member(user, provider_slug: str = "") -> Brand | None:
    """The brand a signed-in user sees: the provider in the URL when they belong there, else their only one."""
    from tenants.models import Provider

    ids = member_provider_ids(user)
    provider = None
    if provider_slug:
        provider = Provider.objects.filter(slug=provider_slug, pk__in=ids).first()
    elif len(ids) == 1:
        provider = Provider.objects.filter(pk__in=ids).first()
    return brand_for(provider) if provider else None


def brand_for_slug(provider_slug: str) -> Brand | None:
    """A provider's public brand assets by slug (its stylesheet, logo and favicon are public by design)."""
    from tenants.models import Provider

    provider = Provider.objects.filter(slug=provider_slug).first()
    return brand_for(provider) if provider else None


def user_belongs_to_provider(user, provider_id: int) -> bool:
    """Whether a user may sign in on a provider's own domain: its staff, or a user of one of its customers."""
    from tenants.models import CustomerMembership, ProviderMembership

    return (ProviderMembership.objects.filter(user=user, provider_id=provider_id).exists()
            or CustomerMembership.objects.filter(user=user, provider_id=provider_id,
                                                 customer__provider_id=provider_id).exists())
