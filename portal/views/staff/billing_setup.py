"""Billing set-up in the staff console: the landing page, BTC prices per month, maintenance windows.

Thin views over billing.services.contracts: the forms turn human units into the service's, the service checks
`MANAGE_BILLING`, validates, writes and audits. Read-only staff see the lists; the forms are hidden from them and
their POST is refused (403). Contracts and adjustments are in `billing_contracts.py`.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from billing.selectors import maintenance as maintenance_selectors
from billing.selectors import prices as price_selectors
from billing.services.contracts import btc_price_record, maintenance_window_create
from portal.timezones import user_timezone
from portal.views.access_common import scope_or_404
from portal.views.customer.common import page_of
from portal.views.once import OnceForm, write_once
from portal.views.staff.billing_forms import BtcPriceForm, MaintenanceWindowForm
from tenants import selectors
from tenants.access import Capability, Scope, scoped
from tenants.models import Customer


def submit_once(request: HttpRequest, scope: Scope, form: OnceForm, write: Callable[[], tuple[str, str]], *,
                back: str) -> HttpResponse | None:
    """Run `write` (which returns where to go next and what to say) at most once per the form's key.

    A double click or a retried POST finds the first one's record and is sent where the first went; nothing is
    written twice. Returns the redirect, or None when the form now carries the errors to show (nothing written).
    """
    said: dict[str, str] = {}

    def once(_attempt) -> tuple[int, dict]:
        location, said["message"] = write()
        return 302, {"location": location}

    sent = write_once(request, scope, form, once)
    if sent is None:
        return None
    if sent.state == "running":
        messages.info(request, "This form was sent twice; the first one is still being saved.")
        return redirect(back)
    if sent.state == "replayed":
        messages.info(request, "This form was already sent; it was saved once.")
    else:
        messages.success(request, said["message"])
    return redirect(sent.body["location"])


def base_ctx(scope: Scope) -> dict:
    return {"scope": scope, "provider": selectors.provider_get(scope=scope),
            "can_manage": scope.can(Capability.MANAGE_BILLING)}


@login_required
def billing_home(request: HttpRequest, provider_slug: str) -> HttpResponse:
    """The Billing entry of the console: where statements, contracts, prices and maintenance are."""
    scope = scope_or_404(request, provider_slug=provider_slug)
    return render(request, "portal/staff/billing/home.html", base_ctx(scope))


@login_required
def btc_prices(request: HttpRequest, provider_slug: str) -> HttpResponse:
    """The recorded BTC prices by month and currency, and the form to record one."""
    scope = scope_or_404(request, provider_slug=provider_slug)
    today = timezone.now().date()
    form = BtcPriceForm(request.POST or None, initial={"period": f"{today:%Y-%m}", "as_of": today})
    if request.method == "POST":
        scope.require(Capability.MANAGE_BILLING)
        if form.is_valid():
            data = form.cleaned_data

            def write() -> tuple[str, str]:
                price = btc_price_record(scope=scope, currency=data["currency"], period=data["period"],
                                         price=data["price"], as_of=data["as_of"], source=data["source"],
                                         now=timezone.now())
                return request.path, f"Recorded: {price}."

            done = submit_once(request, scope, form, write, back=request.path)
            if done:
                return done
    ctx = {**base_ctx(scope), "form": form, "page": page_of(price_selectors.btc_price_list(scope=scope), request, 50)}
    return render(request, "portal/staff/billing/btc_prices.html", ctx)


@login_required
def maintenance_windows(request: HttpRequest, provider_slug: str) -> HttpResponse:
    """Upcoming and past maintenance windows (times in the staff's zone), and the form to plan one."""
    scope = scope_or_404(request, provider_slug=provider_slug)
    zone = user_timezone(request)  # the staff member's own zone (their setting, else the provider's)
    customers = scoped(Customer, scope).order_by("name").values_list("pk", "name")
    form = MaintenanceWindowForm(request.POST or None, customers=customers, zone=zone)
    if request.method == "POST":
        scope.require(Capability.MANAGE_BILLING)
        if form.is_valid():
            data = form.cleaned_data

            def write() -> tuple[str, str]:
                window = maintenance_window_create(scope=scope, starts_at=data["starts_at"], ends_at=data["ends_at"],
                                                   reason=data["reason"], customer_id=data["customer_id"],
                                                   now=timezone.now())
                return request.path, f"Planned: {window.reason}."

            done = submit_once(request, scope, form, write, back=request.path)
            if done:
                return done
    now = timezone.now()
    ctx = {**base_ctx(scope), "form": form, "zone": zone,
           "upcoming": maintenance_selectors.maintenance_windows_upcoming(scope=scope, now=now)[:100],
           "past": page_of(maintenance_selectors.maintenance_windows_past(scope=scope, now=now), request, 50)}
    return render(request, "portal/staff/billing/maintenance.html", ctx)


def contracts_url(provider_slug: str, customer_slug: str) -> str:
    return reverse("staff:billing_customer", kwargs={"provider_slug": provider_slug, "customer_slug": customer_slug})
