"""`python manage.py close_month YYYY-MM [--provider SLUG] [--accept-estimates]`: freeze the month (idempotent).

`close_month --through YYYY-MM` closes, in order, every open month with billable activity up to that one, so a
script (the demo's `make run`) need not know where a provider's history starts."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.periods import month_end, month_parse
from billing.services.closing import billing_month_close, billing_month_first_open
from tenants.access import UNSCOPED_across_all_tenants, scope_for_system
from tenants.models import Provider


def _message(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "\n".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = "Close a month: freeze every customer's statement (all providers, or one with --provider)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("month", nargs="?", help="YYYY-MM")
        parser.add_argument("--through", metavar="YYYY-MM",
                            help="Close every open month with billable activity up to and including this one, "
                                 "oldest first (instead of one month).")
        parser.add_argument("--provider", help="The provider's slug (default: every provider)")
        parser.add_argument("--accept-estimates", action="store_true",
                            help="Close although usage-based lines are below their contract's coverage threshold "
                                 "(priced by the contract's fallback); without it such a month is refused.")

    def handle(self, *args, month: str | None, provider: str | None, accept_estimates: bool = False,
               through: str | None = None, **options) -> None:
        if (month is None) == (through is None):
            raise CommandError("Give either a month (YYYY-MM) or --through YYYY-MM, not both or neither.")
        try:
            period = month_parse(month or through, field="month" if month else "through")
        except ValidationError as exc:
            raise CommandError(_message(exc)) from exc
        providers = UNSCOPED_across_all_tenants(Provider, reason="close_month runs for every provider").order_by("slug")
        if provider:
            providers = providers.filter(slug=provider)
            if not providers.exists():
                raise CommandError(f"--provider: no provider with the slug “{provider}”.")
        for p in providers.values_list("pk", "slug"):
            scope = scope_for_system(provider_id=p[0], actor="command:close_month")
            if through:
                # The earliest open month up to `through`, again and again: each close moves it on.
                closed = 0
                while (first := billing_month_first_open(scope, month_end(period))) is not None:
                    self._close(scope, p[1], first, accept_estimates)
                    closed += 1
                if not closed:
                    self.stdout.write(f"{p[1]}: no open month with billable activity up to {period:%Y-%m}")
                continue
            self._close(scope, p[1], period, accept_estimates)

    def _close(self, scope, slug: str, period, accept_estimates: bool) -> None:
        try:
            result = billing_month_close(scope=scope, period=period, now=timezone.now(),
                                         accept_estimates=accept_estimates)
        except ValidationError as exc:
            raise CommandError(f"{slug}: {_message(exc)}") from exc
        state = "already closed" if result.already_closed else "closed"
        self.stdout.write(f"{slug} {period:%Y-%m}: {state}, {result.statements} statements")
