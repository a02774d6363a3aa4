"""make run's demo staff sign in with a code from `manage.py demo_totp EMAIL`; never in production."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.demo_second_factor import DEMO_TOTP_KEY_HEX, demo_second_factor_enrol
from tenants.services.two_factor import second_factor_verify


def test_demo_staff_get_the_demo_key_and_the_printed_code_signs_in(world):
    assert demo_second_factor_enrol(provider=world.provider_a) == 2  # Alice and Dave, not the customers
    assert demo_second_factor_enrol(provider=world.provider_a) == 0  # idempotent
    assert not TOTPDevice.objects.filter(user=world.carol).exists()
    out = StringIO()
    call_command("demo_totp", "Alice@alpha.example", stdout=out)
    code = out.getvalue().strip().splitlines()[-1]
    assert re.fullmatch(r"\d{6}", code)
    assert second_factor_verify(user=world.alice, code=code) is not None


def test_it_refuses_in_production_and_for_real_authenticators(world, settings):
    TOTPDevice.objects.create(user=world.dave, name="phone", confirmed=True)  # a real, random key
    with pytest.raises(CommandError, match="no demo authenticator"):
        call_command("demo_totp", "dave@alpha.example", stdout=StringIO())
    TOTPDevice.objects.create(user=world.alice, name="demo", key=DEMO_TOTP_KEY_HEX, confirmed=True)
    settings.IS_PRODUCTION = True
    with pytest.raises(CommandError, match="never runs in production"):
        call_command("demo_totp", "alice@alpha.example", stdout=StringIO())
