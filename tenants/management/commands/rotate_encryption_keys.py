"""Re-encrypt every stored secret under the first key of FIELD_ENCRYPTION_KEYS.

Run after putting a new key first; once it reports every row rotated, the old key can be dropped.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from tenants.crypto import InvalidToken
from tenants.services import provider_secrets_rotate


class Command(BaseCommand):
    help = "Re-encrypt every stored API secret under the first key of FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options) -> None:
        try:
            rotated = provider_secrets_rotate()
        except InvalidToken as exc:
            raise CommandError(
                "A stored secret cannot be decrypted with any configured key; nothing was changed. "
                "Keep the old key in FIELD_ENCRYPTION_KEYS (after the new one) until rotation has run."
            ) from exc
        self.stdout.write(self.style.SUCCESS(f"Rotated {rotated} secret(s) under the first key."))
