"""Where a provider's pool may live (issue 7, item 10): WhiteBIT's hosts; a sandbox on loopback only where
settings allow it. The rule sits in the model, so the admin (and every later form) inherits it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tenants import services
from tenants.models import Provider
from tenants.validators import validate_upstream_url
from tests.fixtures.access import login_verified

PASSWORD = "a-long-test-password-1"

SSRF_TARGETS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5:8080",
    "https://whitebit.com.attacker.example",
    "https://attacker.example@whitebit.com",
    "https://whitebit.com:8443",
    "http://whitebit.com",
    "https://whitebit.com/api/v4?next=http://10.0.0.5",
    "https://example.com",
]


@pytest.mark.parametrize("url", ["https://whitebit.com", "https://whitebit.eu", "https://whitebit.com/"])
def test_whitebit_hosts_are_accepted_everywhere(url, settings):
    settings.WHITEBIT_SANDBOX_ALLOWED = False
    validate_upstream_url(url)


@pytest.mark.parametrize("url", SSRF_TARGETS)
def test_other_hosts_are_refused_even_where_a_sandbox_is_allowed(url, settings):
    settings.WHITEBIT_SANDBOX_ALLOWED = True
    with pytest.raises(ValidationError, match="must be https://whitebit.com or https://whitebit.eu"):
        validate_upstream_url(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8765", "http://localhost:9000/", "http://[::1]:8765"])
def test_a_loopback_sandbox_only_where_settings_allow_it(url, settings):
    settings.WHITEBIT_SANDBOX_ALLOWED = True
    validate_upstream_url(url)
    settings.WHITEBIT_SANDBOX_ALLOWED = False  # production
    with pytest.raises(ValidationError, match="sandbox pool URL is not allowed"):
        validate_upstream_url(url)


def test_production_settings_refuse_a_sandbox_and_development_allows_it():
    from tests.portal._production import PRODUCTION_ENV, settings_values

    assert settings_values("WHITEBIT_SANDBOX_ALLOWED", env=PRODUCTION_ENV) == {"WHITEBIT_SANDBOX_ALLOWED": False}
    assert settings_values("WHITEBIT_SANDBOX_ALLOWED", env={"DJANGO_ENV": "development"}) == {
        "WHITEBIT_SANDBOX_ALLOWED": True}


@pytest.mark.django_db
def test_the_model_refuses_it_so_services_write_nothing():
    with pytest.raises(ValidationError) as caught:
        services.provider_create(name="Probe", slug="probe", upstream_base_url="http://169.254.169.254/")
    assert "upstream_base_url" in caught.value.message_dict
    assert not Provider.objects.filter(slug="probe").exists()


@pytest.mark.django_db
def test_the_admin_inherits_the_rule(world, client, django_user_model):
    root = django_user_model.objects.create_superuser("root@platform.example", "root@platform.example", PASSWORD)
    login_verified(client, root)  # the admin sits behind the second factor
    url = f"/admin/tenants/provider/{world.provider_a.pk}/change/"
    form = {
        "name": "Alpha Hosting", "slug": "alpha", "timezone": "UTC",
        "upstream_base_url": "http://169.254.169.254/latest/meta-data/", "whitebit_api_key": "alpha-key",
        "api_secret": "", "customers-TOTAL_FORMS": "0", "customers-INITIAL_FORMS": "0",
    }
    page = client.post(url, form)
    assert page.status_code == 200  # the form again, with the error, not a redirect
    assert "The pool URL must be https://whitebit.com or https://whitebit.eu" in page.content.decode()
    world.provider_a.refresh_from_db()
    assert world.provider_a.upstream_base_url == "https://whitebit.com"
