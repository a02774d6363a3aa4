"""`manage.py api_token_create --provider SLUG [--customer SLUG] --scopes read[,write][,billing]
[--expires-days N] [--name NAME]`: prints the token once and nothing else on stdout (pipe it into a vault)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from tenants.access import UNSCOPED_across_all_tenants, scope_for_system
from tenants.models import Provider
from tenants.selectors import customer_get
from tenants.tokens import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a provider (or one of its customers); prints the token once."

    def add_arguments(self, parser):
        parser.add_argument("--provider", required=True, help="provider slug")
        parser.add_argument("--customer", help="customer slug: a token for that customer's own integrations")
        parser.add_argument("--scopes", required=True, help="read[,write][,billing]")
        parser.add_argument("--expires-days", type=int, default=None)
        parser.add_argument("--name", default="", help="what uses the token (default: cli)")

    def handle(self, *args, **opts):
        provider_id = (
            UNSCOPED_across_all_tenants(Provider, reason="the operator names the provider by slug")
            .filter(slug=opts["provider"]).values_list("pk", flat=True).first()
        )
        if provider_id is None:
            raise CommandError(f"No provider with slug {opts['provider']!r}.")
        scope = scope_for_system(provider_id=provider_id, actor="command:api_token_create")
        customer_id = None
        if opts["customer"]:
            try:
                customer_id = customer_get(scope=scope, slug=opts["customer"]).pk
            except Http404 as exc:
                raise CommandError(f"No customer {opts['customer']!r} at provider {opts['provider']!r}.") from exc
        try:
            issued = api_token_create(scope=scope, name=opts["name"] or "cli", scopes=opts["scopes"],
                                      customer_id=customer_id, expires_in_days=opts["expires_days"])
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        self.stdout.write(issued.plaintext)
