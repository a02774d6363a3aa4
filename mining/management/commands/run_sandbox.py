"""`manage.py run_sandbox`: serve the simulated WhiteBIT mining pool until Ctrl-C.

Lets a developer point the portal (or any WhiteBIT client) at a local pool with realistic data and the real
protocol. It never touches the database: the sandbox is the upstream, not part of the portal.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mining.whitebit.sandbox.config import SandboxConfig
from mining.whitebit.sandbox.server import SandboxServer

_HOST_RE = re.compile(r"^[A-Za-z0-9.\-:]+$")


def _parse_now(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--now {value!r} is not an ISO 8601 time (e.g. 2026-11-15T00:00:00Z)") from None
    if when.tzinfo is None:
        raise CommandError(f"--now {value!r} needs a UTC offset (e.g. a trailing Z)")
    return when.astimezone(UTC)


class Command(BaseCommand):
    help = "Run the sandbox WhiteBIT mining pool (simulated fleet, real protocol) on HOST:PORT until Ctrl-C."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Interface to bind (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8765, help="TCP port; 0 picks a free one (default 8765).")
        parser.add_argument("--api-key", required=True, help="API key clients must send in X-TXC-APIKEY.")
        parser.add_argument("--api-secret", required=True, help="Secret that signs the payloads.")
        parser.add_argument("--seed", type=int, default=1, help="Seed of the simulated fleet (default 1).")
        parser.add_argument("--accounts", type=int, default=3, help="Seeded mining accounts (default 3).")
        parser.add_argument("--workers", type=int, default=5, help="Workers per seeded account (default 5).")
        parser.add_argument("--history-days", type=int, default=7, help="Days of past data (default 7).")
        parser.add_argument(
            "--now", default=None, help="Freeze the data clock at this ISO 8601 UTC time (default: real clock)."
        )
        parser.add_argument("--latency-ms", type=int, default=0, help="Added delay per API request (default 0).")
        parser.add_argument(
            "--rate-limit", type=int, default=1000, help="Requests per endpoint per 10 s window (default 1000)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host: str = options["host"]
        if not host or not _HOST_RE.match(host):
            raise CommandError(f"--host {host!r} is not a valid host name or address")
        port: int = options["port"]
        if not 0 <= port <= 65535:
            raise CommandError(f"--port must be between 0 and 65535, not {port}")
        for name, low, high in (
            ("accounts", 0, 10_000),
            ("workers", 0, 10_000),
            ("history_days", 1, 3_650),
            ("latency_ms", 0, 600_000),
            ("rate_limit", 1, 10_000_000),
        ):
            value = options[name]
            if not low <= value <= high:
                flag = "--" + name.replace("_", "-")
                raise CommandError(f"{flag} must be between {low} and {high}, not {value}")
        if not options["api_key"].strip() or not options["api_secret"].strip():
            raise CommandError("--api-key and --api-secret must not be empty")
        now = _parse_now(options["now"]) if options["now"] else None
        try:
            config = SandboxConfig(
                api_key=options["api_key"],
                api_secret=options["api_secret"],
                seed=options["seed"],
                accounts=options["accounts"],
                workers=options["workers"],
                history_days=options["history_days"],
                now=now,
                latency_ms=options["latency_ms"],
                rate_limit=options["rate_limit"],
            )
            server = SandboxServer(config, host=host, port=port)
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc

        self.stdout.write(f"WhiteBIT sandbox pool on {host}:{port if port else '(free port)'}")
        self.stdout.write(f"  api key:   {config.api_key}")
        self.stdout.write("  secret:    (as given with --api-secret)")
        self.stdout.write(f"  data clock: {now.isoformat() if now else 'real time'}")
        self.stdout.write(f"  accounts:  {', '.join(server.app.fleet.accounts) or '(none)'}")
        self.stdout.write(f"  workers per account: {config.workers}; history: {config.history_days} days")

        def ready(base_url: str) -> None:
            self.stdout.write(self.style.SUCCESS(f"base URL: {base_url}"))
            self.stdout.write("Press Ctrl-C to stop.")
            self.stdout.flush()

        try:
            server.serve_forever(on_ready=ready)
        except KeyboardInterrupt:
            self.stdout.write("stopped")
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc}") from exc
