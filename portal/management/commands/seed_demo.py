"""Seed a demo provider against a pool (normally the sandbox): customers, their accounts, and logins.

Running it twice changes nothing; a second --slug makes a second provider beside the first.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from billing.demo import billing_demo_seed
from mining.models import AlertKind, AlertRule
from mining.services.accounts import mining_account_assign, mining_accounts_import
from mining.upstream import client_for_credentials
from mining.whitebit.errors import WhiteBitError
from tenants import services
from tenants.access import scope_for_system, scoped
from tenants.demo import (
    DEMO_ACTOR,
    demo_provider_get,
    demo_provider_upstream_set,
    demo_refuse_in_production,
    demo_upstream_problems,
)
from tenants.demo_second_factor import demo_second_factor_enrol
from tenants.models import CustomerRole, StaffRole, slug_validator

CUSTOMERS = [("Northwind Mining", "northwind"), ("Bluefin Hash", "bluefin"), ("Cedar Ridge BTC", "cedar-ridge")]


class Command(BaseCommand):
    help = "Create (or refresh) a demo provider for a pool, with three customers, their accounts and logins."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--upstream", required=True, help="Pool base URL, e.g. http://127.0.0.1:8765")
        parser.add_argument("--api-key", required=True)
        parser.add_argument("--api-secret", required=True)
        parser.add_argument("--slug", default="demo")
        parser.add_argument("--password", default="demo")

    def handle(self, *args, upstream: str, api_key: str, api_secret: str, slug: str, password: str, **options):
        demo_refuse_in_production()
        errors = []
        try:
            URLValidator(schemes=["http", "https"])(upstream)
        except Exception:  # noqa: BLE001 - reported field by field below
            errors.append(f"--upstream: “{upstream}” is not an http(s) URL")
        else:
            errors += demo_upstream_problems(upstream)
        try:
            slug_validator(slug)
        except Exception:  # noqa: BLE001
            errors.append(f"--slug: “{slug}” must be 1–50 lowercase letters, digits and hyphens")
        if not api_key.strip():
            errors.append("--api-key: must not be empty")
        if not api_secret:
            errors.append("--api-secret: must not be empty")
        if not password:
            errors.append("--password: must not be empty")
        if errors:
            raise CommandError("\n".join(errors))

        demo_provider_get(slug)  # refuses a provider seed_demo did not create, before anything is sent or written
        # Ask the pool first: refused credentials leave nothing behind.
        try:
            upstream_accounts = list(
                client_for_credentials(base_url=upstream, api_key=api_key, api_secret=api_secret).accounts_iter()
            )
        except WhiteBitError as exc:
            raise CommandError(f"The pool at {upstream} refused: {exc.user_message}") from exc

        try:
            provider, customers, owner, alice, bob, accounts, counts = self._seed(
                upstream=upstream, api_key=api_key, api_secret=api_secret, slug=slug, password=password,
                upstream_accounts=upstream_accounts)
        except ValidationError as exc:  # the model's rules, in words, instead of a traceback
            raise CommandError("\n".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(
            f"Provider “{provider.name}” ({slug}): {len(customers)} customers, {len(accounts)} mining accounts "
            f"({counts.created} new)."
        ))
        for user, what in ((owner, "provider owner"), (alice, f"admin of {customers[0].name}"),
                           (bob, f"admin of {customers[1].name}")):
            self.stdout.write(f"  {user.username} / {password}  ({what})")

    def _seed(self, *, upstream: str, api_key: str, api_secret: str, slug: str, password: str,
              upstream_accounts: list) -> tuple:
        with transaction.atomic():
            provider = demo_provider_get(slug)
            if provider is None:
                # Audited as seed_demo's creation: that entry is what marks the provider as a demo.
                provider = services.provider_create(name=f"{slug.replace('-', ' ').title()} Hosting", slug=slug,
                                                    upstream_base_url=upstream, api_key=api_key, api_secret=api_secret,
                                                    actor=DEMO_ACTOR)
            elif provider.upstream_base_url != upstream or provider.whitebit_api_key != api_key or (
                provider.reveal_api_secret() != api_secret
            ):
                demo_provider_upstream_set(provider, upstream=upstream)
                services.provider_credentials_set(provider=provider, api_key=api_key, api_secret=api_secret,
                                                  actor=DEMO_ACTOR)
            scope = scope_for_system(provider_id=provider.pk)
            customers = []
            for name, cslug in CUSTOMERS:
                customer = scoped(provider.customers.all(), scope).filter(slug=cslug).first()
                if customer is None:
                    customer = services.customer_create(provider=provider, name=name, slug=cslug,
                                                        contact_emails=[f"ops@{cslug}.example"])
                customers.append(customer)
            owner = services.user_get_or_create(email=f"owner@{slug}.example", password=password)
            alice = services.user_get_or_create(email=f"alice@{slug}.example", password=password)
            bob = services.user_get_or_create(email=f"bob@{slug}.example", password=password)
            services.provider_membership_grant(provider=provider, user=owner, role=StaffRole.OWNER)
            services.customer_membership_grant(customer=customers[0], user=alice, role=CustomerRole.ADMIN)
            services.customer_membership_grant(customer=customers[1], user=bob, role=CustomerRole.ADMIN)
            demo_second_factor_enrol(provider=provider)  # staff sign in with `manage.py demo_totp EMAIL` (issue 9)
            if not scoped(AlertRule, scope).exists():
                AlertRule.objects.bulk_create([
                    AlertRule(provider=provider, kind=AlertKind.WORKER_OFFLINE, duration_minutes=30),
                    AlertRule(provider=provider, kind=AlertKind.HASHRATE_DROP, drop_bps=5000, duration_minutes=30),
                ])
            accounts, counts = mining_accounts_import(scope=scope, upstream=upstream_accounts)
            # Deal unassigned accounts to the customers in turn; accounts already assigned stay where they are.
            unassigned = sorted((a for a in accounts if a.customer_id is None), key=lambda a: a.name)
            assigned_count = sum(1 for a in accounts if a.customer_id is not None)
            for i, account in enumerate(unassigned):
                customer = customers[(assigned_count + i) % len(customers)]
                mining_account_assign(scope=scope, account_id=account.pk, customer_id=customer.pk)
            # billing (issue 8): each demo customer's contract, from the start of its data.
            billing_demo_seed(scope=scope, customers=customers, accounts=accounts, now=timezone.now())
        return provider, customers, owner, alice, bob, accounts, counts
