"""Queue a provider's failed e-mail again, after fixing what made it fail (EMAIL_URL, a customer's address).

Each retried message gets a fresh set of attempts and an audit entry (actor "command:email_retry_failed").
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.access import scope_for_system
from tenants.email import email_retry_failed
from tenants.models import Provider


class Command(BaseCommand):
    help = "Queue a provider's failed e-mail again (--all, or --id N for each message)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--provider", required=True, help="Provider slug")
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--all", action="store_true", help="Every failed message of the provider")
        which.add_argument("--id", type=int, action="append", dest="ids", help="One message's id (repeatable)")

    def handle(self, *args, provider: str, ids: list[int] | None, **options) -> None:
        if not options["all"] and not ids:
            raise CommandError("Say which messages: --all, or --id N (repeatable).")
        provider_id = Provider.objects.filter(slug=provider).values_list("pk", flat=True).first()
        if provider_id is None:
            raise CommandError(f"--provider: No provider with slug “{provider}”.")
        scope = scope_for_system(provider_id=provider_id, actor="command:email_retry_failed")
        try:
            retried = email_retry_failed(scope=scope, email_ids=ids)
        except ValidationError as exc:
            reasons = exc.message_dict.get("email_ids", exc.messages)
            raise CommandError("; ".join(f"--id: {m}" for m in reasons)) from exc
        self.stdout.write(self.style.SUCCESS(f"{len(retried)} failed e-mail queued again."))
