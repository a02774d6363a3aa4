"""Secrets are encrypted at rest, rotatable, and write-only everywhere."""

from __future__ import annotations

import os
import subprocess

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from tenants import crypto
from tenants.models import Provider
from tests.fixtures.tenancy import PASSWORD


def test_round_trip_and_ciphertext_differs_from_plaintext(world):
    provider = Provider.objects.get(pk=world.provider_a.pk)
    assert provider.reveal_api_secret() == "alpha-secret-PLAINTEXT-1"
    assert "PLAINTEXT" not in provider.api_secret_ciphertext
    assert "PLAINTEXT" not in repr(provider) and "PLAINTEXT" not in str(provider.__dict__.get("api_secret", ""))


def test_rotation_leaves_every_row_readable_without_the_old_key(world, settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_encryption_keys", stdout=open(os.devnull, "w"))
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    secrets = {p.slug: p.reveal_api_secret() for p in Provider.objects.all()}
    assert secrets == {"alpha": "alpha-secret-PLAINTEXT-1", "beta": "beta-secret-PLAINTEXT-2"}


def test_rotation_without_the_old_key_refuses_and_changes_nothing(world, settings):
    from django.core.management.base import CommandError

    before = dict(Provider.objects.values_list("slug", "api_secret_ciphertext"))
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="cannot be decrypted"):
        call_command("rotate_encryption_keys")
    assert dict(Provider.objects.values_list("slug", "api_secret_ciphertext")) == before


def test_invalid_key_material_is_a_clear_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.FIELD_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="invalid Fernet key"):
        crypto.secret_encrypt("x")


@pytest.mark.django_db(transaction=True)
def test_a_database_dump_contains_no_plaintext_secret():
    from tenants import services

    services.provider_create(name="Dump Test", slug="dump-test", upstream_base_url="https://whitebit.com",
                             api_key="dump-key", api_secret="DUMP-SECRET-must-not-appear-3141592653")
    db = connection.settings_dict
    dump = subprocess.run(
        ["pg_dump", "--data-only", "-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432),
         "-U", db["USER"] or "postgres", db["NAME"]],
        capture_output=True, check=True, env={**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""},
    ).stdout
    assert b"dump-key" in dump  # the dump really holds the row …
    assert b"DUMP-SECRET-must-not-appear" not in dump  # … but not its secret


def test_admin_never_renders_the_secret_and_blank_keeps_it(world, client, django_user_model):
    admin = django_user_model.objects.create_superuser("root@platform.example", "root@platform.example", PASSWORD)
    from tests.fixtures.access import login_verified

    login_verified(client, admin)  # the admin requires the second factor too
    url = f"/admin/tenants/provider/{world.provider_a.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert b"alpha-secret-PLAINTEXT-1" not in page.content
    assert world.provider_a.api_secret_ciphertext.encode() not in page.content
    form = {
        "name": "Alpha Hosting", "slug": "alpha", "timezone": "Europe/Kyiv",
        "upstream_base_url": "https://whitebit.com", "whitebit_api_key": "alpha-key", "api_secret": "",
        "customers-TOTAL_FORMS": "0", "customers-INITIAL_FORMS": "0",
    }
    assert client.post(url, form).status_code == 302
    world.provider_a.refresh_from_db()
    assert world.provider_a.timezone == "Europe/Kyiv"
    assert world.provider_a.reveal_api_secret() == "alpha-secret-PLAINTEXT-1"
    form["api_secret"] = "a-new-secret"
    client.post(url, form)
    world.provider_a.refresh_from_db()
    assert world.provider_a.reveal_api_secret() == "a-new-secret"
