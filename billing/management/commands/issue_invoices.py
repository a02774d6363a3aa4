"""`python manage.py issue_invoices YYYY-MM --provider SLUG`: one invoice per closed statement of the month that has
none yet (idempotent: a second run issues nothing)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.periods import month_parse
from billing.services.invoices import invoices_issue_month
from tenants.access import UNSCOPED_across_all_tenants, scope_for_system
from tenants.models import Provider


class Command(BaseCommand):
    help = "Issue the invoices of a closed month for one provider (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("month", help="YYYY-MM")
        parser.add_argument("--provider", required=True, help="The provider's slug")

    def handle(self, *args, month: str, provider: str, **options) -> None:
        try:
            period = month_parse(month, field="month")
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        found = UNSCOPED_across_all_tenants(Provider, reason="issue_invoices resolves the --provider slug").filter(
            slug=provider).values_list("pk", flat=True).first()
        if found is None:
            raise CommandError(f"--provider: no provider with the slug “{provider}”.")
        scope = scope_for_system(provider_id=found, actor="command:issue_invoices")
        try:
            result = invoices_issue_month(scope=scope, period=period, now=timezone.now())
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"{provider} {period:%Y-%m}: {result.issued} invoices issued, {result.already} issued "
                          "before")
