"""Every API endpoint, called by another tenant (another provider's token, another customer's token, another
provider's staff session), answers 404 and changes nothing.

The routes are read from the URL configuration (namespace api:v1), not listed here: a new endpoint whose path
names an object this walk cannot fill in, or a new collection it has no request for, fails the suite until it is
covered.
"""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from billing.models import Contract, ContractVersion, Invoice, Payment, Statement
from mining.models import Alert, MiningAccount, Reward, WatcherLink, Worker
from tenants.models import ApiToken, Customer
from tests.api.conftest import token_make
from tests.fixtures.access import login_verified

pytestmark = pytest.mark.django_db

# Collections (no object in the path): what another tenant tries to do with provider A's objects through them.
COLLECTION_WRITES = {
    "customers/": {"name": "X", "slug": "carol-mining"},
    "mining-accounts/": lambda a: {"name": "intruder_acct", "customer_id": a["customer"].pk},
    "watcher-links/": lambda a: {"account_ids": [a["account"].pk], "name": "peek", "permissions": ["dashboard"],
                                 "live_until": "1h"},
    "tokens/": lambda a: {"name": "x", "scopes": ["read"], "customer_id": a["customer"].pk},
    "contracts/": lambda a: {"customer_id": a["customer"].pk, "effective_from": "2026-12-01", "machine_count": 1},
    "maintenance-windows/": lambda a: {"customer_id": a["customer"].pk, "starts_at": "2026-12-01T08:00:00Z",
                                       "ends_at": "2026-12-01T09:00:00Z", "reason": "peek"},
    "payments/": lambda a: {"invoice_id": a["invoice"].pk, "amount": "0.001", "currency": "BTC",
                            "paid_at": "2026-11-01", "method": "btc"},
}
# Collections whose writes name nothing of another tenant (a BTC price is the caller's own provider's): there is no
# cross-tenant request to make; tests/api/test_billing_api.py shows the price lands in the caller's provider only.
PROVIDER_OWN_WRITES = {"btc-prices/"}
PARAM_MODELS = {"account_id": MiningAccount, "worker_id": Worker, "customer_id": Customer}
BODIES = {  # a plausible body per write, so a refusal is the scope's doing and not the body's
    "payout-destination": {"destination": "main_balance"},
    "contracts/<int:id>/versions/": {"effective_from": "2026-12-01", "machine_count": 3},
    "contract-versions/": {"machine_count": 3},
    "billing-details/": {"legal_name": "Intruder Ltd", "currency": "EUR"},
}
A_CLOSED_MONTH = "2026-10"  # provider A's closed month (billing_world); the other callers' own is open


def api_routes():
    """(route, view class, {method: action}) for every pattern in the api:v1 namespace."""
    found = []

    def walk(patterns, prefix, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = namespace + ([p.namespace] if p.namespace else [])
                walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern) and namespace == ["api", "v1"]:
                found.append((prefix + str(p.pattern), p.callback.cls, dict(p.callback.actions)))

    walk(get_resolver().url_patterns, "/", [])
    return found


def _snapshot():
    rows = {}
    for label in ("tenants", "mining", "billing"):
        for model in apps.get_app_config(label).get_models():
            values = list(model.objects.order_by("pk").values())
            for v in values:
                v.pop("last_used_at", None)  # a token's use is recorded on its own row, by design
            rows[model.__name__] = values
    return rows


def test_the_walk_sees_every_resource():
    routes = {r for r, _, _ in api_routes()}
    assert {"/api/v1/customers/", "/api/v1/mining-accounts/<int:id>/payout-destination/",
            "/api/v1/workers/<int:worker_id>/hashrate/", "/api/v1/watcher-links/",
            "/api/v1/contracts/<int:id>/versions/",
            "/api/v1/customers/<int:customer_id>/statements/<month:period>/pdf/",
            "/api/v1/billing-months/<month:period>/detail-csv/", "/api/v1/invoices/<int:id>/pdf/",
            "/api/v1/payments/", "/api/v1/customers/<int:customer_id>/billing-details/"} <= routes


def _invoice_and_payment(w):
    """Provider A's October invoice of customer A1 and a payment on it (issued through billing's services)."""
    from datetime import date

    from django.utils import timezone

    from billing.services.invoices import invoices_issue_month
    from billing.services.payments import payment_record
    from tenants.access import scope_for_system

    scope = scope_for_system(provider_id=w.provider_a.pk, actor="test")
    invoices_issue_month(scope=scope, period=date(2026, 10, 1), now=timezone.now())
    invoice = Invoice.objects.get(customer=w.customer_a1)
    payment = payment_record(scope=scope, invoice_id=invoice.pk, amount="0.0001", currency="BTC",
                             paid_at=timezone.now().date(), method="btc", now=timezone.now())
    return invoice, payment


def test_other_tenants_get_404_everywhere_and_nothing_changes(billing_world):
    api_world = billing_world.api
    w, a1 = api_world.world, api_world.a1
    invoice, payment = _invoice_and_payment(w)
    a_objects = {
        Customer: w.customer_a1, MiningAccount: a1["account"], Worker: a1["workers"][0], Reward: a1["rewards"][0],
        Alert: a1["alert"], WatcherLink: a1["link"],
        ApiToken: ApiToken.objects.get(customer=w.customer_a1, name="carol-tool"),
        Contract: billing_world.contract, ContractVersion: billing_world.version, Statement: billing_world.statement,
        Invoice: invoice, Payment: payment,
    }
    a_context = {"customer": w.customer_a1, "account": a1["account"], "invoice": invoice}
    # every scope an outsider could hold, billing included: a refusal must be the tenancy's, not the scope's
    a2_token = token_make(w.provider_a, scopes="read,write,billing", customer=w.customer_a2, name="a2-write")
    outsiders = {
        "provider B token": lambda c: c.credentials(HTTP_AUTHORIZATION=f"Bearer {api_world.tokens['b_write']}"),
        "customer A2 token": lambda c: c.credentials(HTTP_AUTHORIZATION=f"Bearer {a2_token}"),
        "provider B staff session": lambda c: login_verified(c, w.bob),
    }
    before = _snapshot()
    failures, calls = [], 0
    for route, view, actions in api_routes():
        params = re.findall(r"<int:(\w+)>", route)
        month_only = not params and "<month:period>" in route
        for caller, authenticate in outsiders.items():
            client = APIClient()
            authenticate(client)
            for method in actions:
                if method == "head":  # DRF adds it to a view's actions at its first GET (in-process): it is GET
                    continue
                if params:
                    path = route
                    for name in params:
                        model = view.model if name == "id" else PARAM_MODELS.get(name)
                        if model not in a_objects:
                            failures.append(f"{route}: no object of {model} to try; add one to this walk")
                            break
                        path = path.replace(f"<int:{name}>", str(a_objects[model].pk))
                    path = path.replace("<month:period>", A_CLOSED_MONTH)
                    body = next((b for k, b in BODIES.items() if k in route), {})
                    expected = {404}
                elif month_only:
                    # the caller's own month (A's cannot be named): not closed for them, or not theirs to export
                    path, body, expected = route.replace("<month:period>", A_CLOSED_MONTH), {}, {400, 403, 404}
                else:
                    path = route
                    if method == "get":
                        body = {}
                        expected = {200}
                    else:
                        key = route.removeprefix("/api/v1/")
                        if key in PROVIDER_OWN_WRITES:
                            continue
                        if key not in COLLECTION_WRITES:
                            failures.append(f"{method.upper()} {route}: no cross-tenant request; add one")
                            continue
                        body = COLLECTION_WRITES[key]
                        body = body(a_context) if callable(body) else body
                        expected = {400, 403, 404}
                response = getattr(client, method)(path, body, format="json",
                                                   HTTP_IDEMPOTENCY_KEY=f"walk-{calls}")
                calls += 1
                if response.status_code not in expected:
                    failures.append(f"{caller}: {method.upper()} {path} → {response.status_code}")
                elif month_only:
                    if w.customer_a1.name in response.content.decode(errors="replace"):
                        failures.append(f"{caller}: GET {path} shows provider A's customer A1")
                elif not params and method == "get":
                    leaked = {r["id"] for r in response.json()["results"]} & {
                        o.pk for m, o in a_objects.items() if m is view.model}
                    if leaked and not (caller == "customer A2 token" and view.model is ApiToken):
                        failures.append(f"{caller}: GET {path} lists provider A's customer A1 rows {leaked}")
    assert not failures, "\n".join(failures)
    assert calls >= 50
    after = _snapshot()
    for name, rows in before.items():
        assert after[name] == rows, f"{name} changed"
    assert after["IdempotencyRecord"] == []


def test_api_views_never_query_models_directly():
    """The API's HTTP layer reads through selectors and tenants.access only (like the portal's views)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in sorted((root / "portal" / "api").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if re.search(r"\b[A-Z]\w*\.objects\.", line) or re.search(r"_default_manager\.(?!none\(\))", line):
                offenders.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert not offenders, "query through tenants.access / selectors instead:\n" + "\n".join(offenders)


def test_a_view_cannot_bypass_the_scope():
    from portal.api.base import ScopedViewSet

    with pytest.raises(TypeError, match="may not override"):
        type("Sneaky", (ScopedViewSet,), {"get_queryset": lambda self: Customer.objects.all()})
    with pytest.raises(TypeError, match="may not override"):
        type("Sneaky", (ScopedViewSet,), {"initial": lambda self, request, *a, **k: None})
