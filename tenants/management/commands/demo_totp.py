"""Print the current second-factor code of a demo user, so a newcomer can sign in to `make run`'s console.

The last line of the output is the six digits alone. Refuses in production and for anyone whose authenticator is
not the public demo one.
"""

from __future__ import annotations

import base64
import time

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.demo_second_factor import DEMO_TOTP_KEY_HEX, demo_refuse_in_production


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo user (development only); the last line is the code."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email: str, **options):
        try:
            demo_refuse_in_production()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        user = get_user_model().objects.filter(username=email.strip().lower()).first()
        if user is None:
            raise CommandError(f"No user {email}.")
        device = TOTPDevice.objects.filter(user=user, confirmed=True, key=DEMO_TOTP_KEY_HEX).first()
        if device is None:
            raise CommandError(f"{email} has no demo authenticator (only make run's demo staff do).")
        generator = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        generator.time = time.time()
        left = device.step - int(generator.time - device.t0) % device.step
        secret = base64.b32encode(device.bin_key).decode()
        self.stdout.write(f"Code for {user.username} (valid {left} s more; demo key {secret}):")
        self.stdout.write(f"{generator.token():0{device.digits}d}")
