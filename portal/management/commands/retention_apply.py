"""`manage.py retention_apply`: run every retention rule now (beat runs them daily), and print what went.

Why a command: an operator who changes a horizon, or restores a backup, wants to apply the policy at once and see
the counts, without waiting for the night's beat run. It lives in `portal` because it spans every app.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from billing.exports.retention import export_files_prune
from mining.services.retention import hashrate_retention_apply
from tenants.services.retention import platform_retention_apply


class Command(BaseCommand):
    help = "Apply every retention rule now (docs/OPERATIONS.md, Retention) and print how many rows each removed."

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        counts: dict[str, int] = {}
        counts.update(platform_retention_apply(now=now))
        counts["export_files"] = export_files_prune(now=now)
        counts.update(hashrate_retention_apply(now=now))
        for name, count in counts.items():
            self.stdout.write(f"{name}: {count}")
