"""seed_demo: a demo provider against a pool, idempotent, one provider per slug, clear errors on bad input."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from mining.models import MiningAccount
from tenants.models import Customer, CustomerMembership, Provider, ProviderMembership
from tests.fixtures.access import login_verified


def _seed(sandbox_pool, *extra: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--upstream", sandbox_pool.base_url, "--api-key", sandbox_pool.api_key,
                 "--api-secret", sandbox_pool.api_secret, *extra, stdout=out)
    return out.getvalue()


def _state() -> tuple:
    return (
        sorted(Provider.objects.values_list("slug", "upstream_base_url")),
        sorted(Customer.objects.values_list("provider__slug", "slug")),
        sorted(MiningAccount.objects.values_list("provider__slug", "name", "customer__slug")),
        sorted(ProviderMembership.objects.values_list("provider__slug", "user__username", "role")),
        sorted(CustomerMembership.objects.values_list("customer__slug", "user__username", "role")),
    )


def test_seed_demo_creates_the_demo_and_running_it_twice_changes_nothing(db, sandbox_pool, client):
    output = _seed(sandbox_pool)
    assert "owner@demo.example / demo" in output
    provider = Provider.objects.get(slug="demo")
    assert provider.reveal_api_secret() == sandbox_pool.api_secret
    assert provider.customers.count() == 3
    seeded = set(sandbox_pool.seeded_accounts())
    names = set(MiningAccount.objects.filter(provider=provider).values_list("name", flat=True))
    assert seeded <= names
    # Every account is dealt to a customer; the first two customers each have an admin login.
    assert not MiningAccount.objects.filter(provider=provider, customer__isnull=True).exists()
    assert CustomerMembership.objects.get(user__username="alice@demo.example").customer.slug == "northwind"
    assert CustomerMembership.objects.get(user__username="bob@demo.example").customer.slug == "bluefin"
    before = _state()
    _seed(sandbox_pool)
    assert _state() == before
    assert client.login(username="owner@demo.example", password="demo")
    assert client.get("/p/demo/fleet/").status_code == 302  # the demo owner has an authenticator: the code comes first
    login_verified(client, get_user_model().objects.get(username="owner@demo.example"))
    assert client.get("/p/demo/fleet/").status_code == 200


def test_a_second_slug_makes_a_second_provider_beside_the_first(db, sandbox_pool):
    _seed(sandbox_pool)
    _seed(sandbox_pool, "--slug", "second", "--password", "other-pass")
    assert set(Provider.objects.values_list("slug", flat=True)) >= {"demo", "second"}
    user = get_user_model().objects.get(username="owner@second.example")
    assert user.check_password("other-pass")
    assert MiningAccount.objects.filter(provider__slug="second").count() == MiningAccount.objects.filter(
        provider__slug="demo").count()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--upstream", "not a url"], "--upstream"),
        (["--slug", "Bad Slug!"], "--slug"),
        (["--api-key", " "], "--api-key"),
    ],
)
def test_bad_arguments_are_named_and_change_nothing(db, sandbox_pool, args, message):
    base = {"--upstream": sandbox_pool.base_url, "--api-key": sandbox_pool.api_key,
            "--api-secret": sandbox_pool.api_secret}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [x for pair in base.items() for x in pair] + [a for a in args if a.startswith("--slug")]
    if "--slug" in args:
        flat += [args[args.index("--slug") + 1]]
    with pytest.raises(CommandError, match=message):
        call_command("seed_demo", *flat)
    assert not Provider.objects.exists()


def test_a_wrong_secret_is_reported_in_words(db, sandbox_pool):
    with pytest.raises(CommandError, match="refused"):
        call_command("seed_demo", "--upstream", sandbox_pool.base_url, "--api-key", sandbox_pool.api_key,
                     "--api-secret", "wrong-secret", "--slug", "wrong")
    assert not Provider.objects.filter(slug="wrong").exists()
