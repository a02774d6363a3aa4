"""`python manage.py export_billing YYYY-MM --provider SLUG --format csv|xlsx|pdf --output PATH [--detail]`."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from billing.exports import month as exports
from billing.management.commands.close_month import _message
from billing.periods import month_parse
from tenants.access import UNSCOPED_across_all_tenants, scope_for_system
from tenants.models import Provider


class Command(BaseCommand):
    help = "Export a closed month: summary (or --detail) as CSV or XLSX, or one PDF statement per customer."

    def add_arguments(self, parser) -> None:
        parser.add_argument("month", help="YYYY-MM")
        parser.add_argument("--provider", required=True, help="The provider's slug")
        parser.add_argument("--format", required=True, choices=["csv", "xlsx", "pdf"])
        parser.add_argument("--output", required=True, help="A file (csv, xlsx) or a directory (pdf)")
        parser.add_argument("--detail", action="store_true", help="Every reward line behind the totals")

    def handle(self, *args, month: str, provider: str, format: str, output: str, detail: bool, **options) -> None:
        try:
            period = month_parse(month, field="month")
        except ValidationError as exc:
            raise CommandError(_message(exc)) from exc
        found = UNSCOPED_across_all_tenants(Provider, reason="resolve --provider once").filter(slug=provider).first()
        if found is None:
            raise CommandError(f"--provider: no provider with the slug “{provider}”.")
        scope = scope_for_system(provider_id=found.pk, actor="command:export_billing")
        path = Path(output)
        if format != "pdf" and (path.is_dir() or not path.parent.is_dir()):
            raise CommandError(f"--output: “{output}” must be a file in an existing directory.")
        try:
            if format == "csv":
                n = exports.export_csv(scope=scope, period=period, path=path, detail=detail)
            elif format == "xlsx":
                n = exports.export_xlsx(scope=scope, period=period, path=path, detail=detail)
            else:
                n = len(exports.export_pdf(scope=scope, period=period, directory=path, provider_name=found.name))
        except ValidationError as exc:
            raise CommandError(_message(exc)) from exc
        self.stdout.write(f"{found.slug} {period:%Y-%m}: {n} {'files' if format == 'pdf' else 'rows'} → {path}")
