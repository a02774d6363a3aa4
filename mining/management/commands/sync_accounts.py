"""Run the sync in this process (no broker needed): every active account, or one provider's, or one account."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from mining.services.sync import SyncReport, mining_account_sync, mining_accounts_due
from tenants.models import Provider


class Command(BaseCommand):
    help = "Sync mining accounts from the pool now, in this process."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--provider", help="Provider slug")
        parser.add_argument("--account", help="Mining account name (with --provider)")
        parser.add_argument("--json", action="store_true", help="Print one JSON object with the counts")

    def handle(self, *args, provider: str | None, account: str | None, json: bool, **options) -> None:
        provider_id = None
        if account and not provider:
            raise CommandError("--account needs --provider (account names are unique per provider)")
        if provider:
            found = Provider.objects.filter(slug=provider).values_list("pk", flat=True).first()
            if found is None:
                raise CommandError(f"--provider: no provider with slug “{provider}”")
            provider_id = found
        due = mining_accounts_due(provider_id=provider_id, account_name=account)
        if account and not due:
            raise CommandError(f"--account: no active account “{account}” at provider “{provider}”")
        report = SyncReport()
        for pid, account_id in due:
            report.merge(mining_account_sync(provider_id=pid, account_id=account_id, raise_retryable=False))
        if json:
            self.stdout.write(_json_dumps(report.as_dict()))
        else:
            accounts = report.as_dict()["accounts"]
            self.stdout.write(f"Synced {accounts['synced']}, busy {accounts['skipped_busy']}, "
                              f"failed {accounts['failed']}.")
            for model, counts in report.as_dict()["rows"].items():
                self.stdout.write(f"  {model}: {counts}")
            for error in report.errors:
                self.stdout.write(self.style.WARNING(f"  {error['account']} ({error['dataset']}): {error['error']}"))


def _json_dumps(value) -> str:
    return json.dumps(value, sort_keys=True)
