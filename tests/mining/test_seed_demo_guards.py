"""seed_demo cannot hurt a real deployment (issue 7, item 10): it refuses production, refuses a provider it did
not create, and a bad --upstream is a clear error that sends and writes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from tenants import services
from tenants.models import AuditEntry, Provider, ProviderMembership
from tests.portal._production import PRODUCTION_ENV, manage


def _seed(sandbox_pool, *extra: str, upstream: str | None = None) -> str:
    out = StringIO()
    call_command("seed_demo", "--upstream", upstream or sandbox_pool.base_url, "--api-key", sandbox_pool.api_key,
                 "--api-secret", sandbox_pool.api_secret, *extra, stdout=out)
    return out.getvalue()


def test_seed_demo_refuses_to_run_in_production():
    result = manage("seed_demo", "--upstream", "https://whitebit.com", "--api-key", "k", "--api-secret", "s",
                    env=PRODUCTION_ENV)
    assert result.returncode != 0
    assert "seed_demo does not run in production" in result.stderr
    assert "Traceback" not in result.stderr


def test_seed_demo_leaves_a_real_provider_alone(db, sandbox_pool):
    real = services.provider_create(name="Real Hosting", slug="real", upstream_base_url="https://whitebit.com",
                                    api_key="real-key", api_secret="real-secret")
    with pytest.raises(CommandError, match="“real” was not created by seed_demo"):
        _seed(sandbox_pool, "--slug", "real")
    real.refresh_from_db()
    assert (real.upstream_base_url, real.whitebit_api_key, real.reveal_api_secret()) == (
        "https://whitebit.com", "real-key", "real-secret")
    assert not get_user_model().objects.filter(username="owner@real.example").exists()
    assert not ProviderMembership.objects.filter(provider=real).exists()
    assert not real.customers.exists()


def test_seed_demo_refreshes_its_own_demo_and_records_it(db, sandbox_pool):
    _seed(sandbox_pool)
    demo = Provider.objects.get(slug="demo")
    created = AuditEntry.objects.get(provider=demo, action="provider.create")
    assert created.actor_label == "command:seed_demo"
    _seed(sandbox_pool)  # its own demo: refreshed, not refused
    assert Provider.objects.filter(slug="demo").count() == 1


@pytest.mark.parametrize(
    ("upstream", "message"),
    [
        ("http://169.254.169.254/latest/meta-data", "--upstream: The pool URL must be https://whitebit.com"),
        ("https://whitebit.com.attacker.example", "--upstream: The pool URL must be"),
        ("ftp://127.0.0.1:21", "--upstream: “ftp://127.0.0.1:21” is not an http(s) URL"),
    ],
)
def test_a_bad_upstream_is_a_clear_error_that_writes_nothing(db, sandbox_pool, upstream, message):
    with pytest.raises(CommandError) as caught:
        _seed(sandbox_pool, upstream=upstream)
    assert message in str(caught.value)
    assert not Provider.objects.exists()
