"""White label (issue 21): a provider's brand on its pages, sign-in on its own domain, contrast, images, e-mail.

Alice owns Alpha, Bob owns Beta, Carol is a user of Alpha's customer, Dave is Alpha's read-only staff.
"""

from __future__ import annotations

import io

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from PIL import Image

from portal.hosts import ProviderDomainHosts
from tenants.brand import brand_for, contrast_ratio, provider_domains_forget
from tenants.email import email_enqueue, email_send
from tenants.models import AuditEntry
from tenants.models.brand import ProviderBrand
from tenants.services.brand import provider_brand_image_set, provider_brand_set
from tests.fixtures.access import login_verified
from tests.fixtures.tenancy import PASSWORD

DOMAIN = "mining.alpha-hosting.example"


@pytest.fixture
def hosts(settings):
    """pytest-django copies ALLOWED_HOSTS into a plain list at start-up; put the provider-aware one back."""
    settings.ALLOWED_HOSTS = ProviderDomainHosts(["testserver", "localhost"])
    provider_domains_forget()
    yield
    provider_domains_forget()


def _png(colour=(200, 30, 30), size=(300, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def _brand_alpha(world, **extra):
    scope = world.scope(world.alice, world.provider_a)
    values = {"display_name": "Alpha Cloud Mining", "accent_colour": "#14532d", "accent_text_colour": "#ffffff",
              "support_email": "help@alpha-hosting.example", "email_from_name": "Alpha Cloud",
              "email_from_address": "noreply@alpha-hosting.example", "custom_domain": DOMAIN, **extra}
    return provider_brand_set(scope=scope, **values)


def test_contrast_ratio_matches_wcag_reference_values():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # just below AA


def test_colours_below_wcag_aa_are_refused_with_the_ratio_and_change_nothing(world):
    scope = world.scope(world.alice, world.provider_a)
    with pytest.raises(ValidationError) as refused:
        provider_brand_set(scope=scope, accent_colour="#fde047", accent_text_colour="#ffffff")  # yellow, white
    errors = refused.value.message_dict
    assert "WCAG AA needs at least 4.5:1" in errors["accent_text_colour"][0]
    assert "1.3:1" in errors["accent_text_colour"][0]
    assert "link text on a white card" in errors["accent_colour"][0]
    assert not ProviderBrand.objects.filter(provider=world.provider_a).exists()
    with pytest.raises(ValidationError, match="#rrggbb"):
        provider_brand_set(scope=scope, accent_colour="red; background:url(x)")


def test_brand_page_form_refuses_low_contrast_in_words(world, client):
    login_verified(client, world.alice)
    page = client.post("/p/alpha/settings/brand/", {"accent_colour": "#93c5fd", "accent_text_colour": "#ffffff"})
    assert page.status_code == 400
    assert "WCAG AA needs at least 4.5:1" in page.content.decode()
    assert not ProviderBrand.objects.exists()


def test_brand_writes_need_owner_or_admin_and_are_audited(world, client):
    with pytest.raises(PermissionDenied):
        provider_brand_set(scope=world.scope(world.dave, world.provider_a), display_name="Dave's")
    login_verified(client, world.dave)
    assert client.post("/p/alpha/settings/brand/", {"display_name": "Dave's"}).status_code == 403
    page = client.get("/p/alpha/settings/")
    assert b"Save brand" not in page.content and b"An owner or admin can change the brand." in page.content
    _brand_alpha(world)
    entry = AuditEntry.objects.get(action="provider.brand_set")
    assert entry.provider_id == world.provider_a.pk
    assert entry.changes["display_name"] == ["", "Alpha Cloud Mining"]
    # Another provider's staff cannot reach Alpha's brand form at all.
    login_verified(client, world.bob)
    assert client.post("/p/alpha/settings/brand/", {"display_name": "x"}).status_code == 404


def test_logo_is_validated_reencoded_and_served_by_us(world, client):
    scope = world.scope(world.alice, world.provider_a)
    with pytest.raises(ValidationError, match="SVG is not accepted"):
        provider_brand_image_set(scope=scope, kind="logo",
                                 data=b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    provider_brand_image_set(scope=scope, kind="logo", data=_png(size=(1200, 300)))
    brand = brand_for(world.provider_a)
    assert brand.logo_url.startswith("/brand/alpha/")
    served = client.get(brand.logo_url)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(served.content)) as image:
        assert image.format == "PNG" and image.size[0] <= 480 and image.size[1] <= 120
    assert client.get("/brand/beta/1/logo.png").status_code == 404  # Beta has no logo


def test_upload_through_the_settings_page(world, client):
    login_verified(client, world.alice)
    upload = io.BytesIO(_png())
    upload.name = "logo.png"
    page = client.post("/p/alpha/settings/brand/images/", {"logo": upload}, follow=True)
    assert page.status_code == 200 and b"Saved: logo." in page.content
    bad = io.BytesIO(b"GIF89a not really")
    bad.name = "logo.gif"
    page = client.post("/p/alpha/settings/brand/images/", {"logo": bad})
    assert page.status_code == 400 and b"not an image the portal can read" in page.content


def test_branded_pages_and_stylesheet_stay_inside_the_csp(world, client, hosts):
    _brand_alpha(world)
    login_verified(client, world.carol)
    page = client.get("/c/alpha/carol-mining/dashboard/")
    html = page.content.decode()
    assert "Alpha Cloud Mining" in html and "Mining portal" not in html
    assert "help@alpha-hosting.example" in html
    css_url = brand_for(world.provider_a).css_url
    assert f'<link rel="stylesheet" href="{css_url}">' in html and "style=" not in html
    css = client.get(css_url)
    assert css["Content-Type"].startswith("text/css")
    assert css.content.decode().strip() == ":root { --accent:#14532d; --accent-fg:#ffffff; }"
    # Bob, at Beta, keeps the platform's look on his pages, and does not see Alpha's brand through its URLs.
    login_verified(client, world.bob)
    assert "Alpha Cloud Mining" not in client.get("/p/beta/fleet/").content.decode()
    assert "Alpha Cloud Mining" not in client.get("/p/alpha/fleet/").content.decode()


def test_custom_domain_shows_the_branded_sign_in_and_only_its_users_get_in(world, client, hosts):
    _brand_alpha(world)
    page = client.get("/login/", HTTP_HOST=DOMAIN)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Sign in to Alpha Cloud Mining" in html and "<title>Sign in · Alpha Cloud Mining</title>" in html
    # The platform's own host stays unbranded.
    assert "Sign in to" not in client.get("/login/").content.decode()

    wrong_password = client.post("/login/", {"username": "carol@carol.example", "password": "nope-nope-nope"},
                                 HTTP_HOST=DOMAIN)
    outsider = client.post("/login/", {"username": "bob@beta.example", "password": PASSWORD}, HTTP_HOST=DOMAIN)
    assert outsider.status_code == wrong_password.status_code == 200
    assert "_auth_user_id" not in client.session
    error = "Please enter a correct"
    assert error in outsider.content.decode() and error in wrong_password.content.decode()
    # Bob still signs in on the platform's own host.
    assert client.post("/login/", {"username": "bob@beta.example", "password": PASSWORD}).status_code == 302
    client.logout()
    # Alpha's customer user and Alpha's staff get in on Alpha's domain.
    assert client.post("/login/", {"username": "carol@carol.example", "password": PASSWORD},
                       HTTP_HOST=DOMAIN).status_code == 302
    client.logout()
    assert client.post("/login/", {"username": "alice@alpha.example", "password": PASSWORD},
                       HTTP_HOST=DOMAIN).status_code == 302


def test_allowed_hosts_accept_configured_provider_domains_and_nothing_else(world, client, hosts):
    assert client.get("/login/", HTTP_HOST="evil.example").status_code == 400
    assert client.get("/login/", HTTP_HOST=DOMAIN).status_code == 400  # not configured yet
    _brand_alpha(world)
    assert client.get("/login/", HTTP_HOST=DOMAIN).status_code == 200
    assert client.get("/login/", HTTP_HOST="other." + DOMAIN).status_code == 400
    provider_brand_set(scope=world.scope(world.alice, world.provider_a), custom_domain="")
    assert client.get("/login/", HTTP_HOST=DOMAIN).status_code == 400  # removed: refused again at once


def test_a_domain_is_one_providers_and_never_the_platforms(world, settings):
    _brand_alpha(world)
    with pytest.raises(ValidationError, match="Another provider already uses this domain"):
        provider_brand_set(scope=world.scope(world.bob, world.provider_b), custom_domain=DOMAIN.upper())
    settings.PORTAL_BASE_URL = "https://portal.platform.example"
    with pytest.raises(ValidationError, match="platform's own address"):
        provider_brand_set(scope=world.scope(world.bob, world.provider_b), custom_domain="Portal.Platform.example")
    with pytest.raises(ValidationError, match="host name such as"):
        provider_brand_set(scope=world.scope(world.bob, world.provider_b), custom_domain="https://beta.example/x")


def test_email_from_header_carries_the_brand_and_falls_back(world, settings):
    settings.DEFAULT_FROM_EMAIL = "portal@platform.example"
    (beta_id,) = email_enqueue(provider_id=world.provider_b.pk, recipients=["x@beta.example"], subject="Hello",
                               body="b", dedupe_key="t:1")
    _brand_alpha(world)
    (alpha_id,) = email_enqueue(provider_id=world.provider_a.pk, recipients=["x@alpha.example"], subject="Hello",
                                body="b", dedupe_key="t:2")
    assert email_send(email_id=alpha_id).outcome == "sent"
    assert email_send(email_id=beta_id).outcome == "sent"
    sent = {m.to[0]: m for m in mail.outbox}
    assert sent["x@alpha.example"].from_email == "Alpha Cloud <noreply@alpha-hosting.example>"
    assert sent["x@beta.example"].from_email == "Beta Hosting <portal@platform.example>"
