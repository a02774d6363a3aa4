"""Contracts in the staff console: every customer's current version, one customer's dated versions and
adjustments, a new version, correcting a version (only where no closed statement used it).

Thin views over billing.services.contracts (see billing_setup.py for the once-only submit and the landing page).
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from billing.models import ContractVersion
from billing.periods import previous_month
from billing.selectors import contracts as contract_selectors
from billing.selectors import entries as entry_selectors
from billing.services.contracts import (
    adjustment_create,
    contract_version_create,
    contract_version_update,
    energy_entry_set,
)
from portal.views.access_common import scope_or_404
from portal.views.customer.common import page_of
from portal.views.staff.billing_forms import (
    AdjustmentForm,
    ContractTermsForm,
    ContractVersionNewForm,
    EnergyEntryForm,
    errors_to_form,
)
from portal.views.staff.billing_setup import base_ctx, contracts_url, submit_once
from tenants import selectors
from tenants.access import Capability, Scope, get_in_scope
from tenants.models import Customer


@login_required
def contract_list(request: HttpRequest, provider_slug: str) -> HttpResponse:
    """Each customer with the contract version in force today (or none yet)."""
    scope = scope_or_404(request, provider_slug=provider_slug)
    page = page_of(selectors.customer_list(scope=scope), request, 50)
    current = contract_selectors.contract_current_by_customer(
        scope=scope, customer_ids=[c.pk for c in page], today=timezone.now().date())
    rows = [(c, current.get(c.pk)) for c in page]
    return render(request, "portal/staff/billing/contracts.html", {**base_ctx(scope), "page": page, "rows": rows})


def _customer_ctx(request: HttpRequest, provider_slug: str, customer_slug: str):
    staff_scope = scope_or_404(request, provider_slug=provider_slug)
    customer = get_in_scope(Customer, staff_scope, slug=customer_slug)
    return staff_scope, staff_scope.narrowed_to_customer(customer.pk), customer


@login_required
def customer_billing(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    """One customer's contract versions (the current one marked, locked ones saying why) and adjustments."""
    staff_scope, scope, customer = _customer_ctx(request, provider_slug, customer_slug)
    form = AdjustmentForm(initial={"period": f"{timezone.now():%Y-%m}"})
    return render(request, "portal/staff/billing/customer.html", _customer_page_ctx(staff_scope, scope, customer, form))


def _customer_page_ctx(staff_scope, scope, customer, form: AdjustmentForm | None = None,
                       energy_form: EnergyEntryForm | None = None) -> dict:
    form = form or AdjustmentForm(initial={"period": f"{timezone.now():%Y-%m}"})
    return {**base_ctx(staff_scope), "customer": customer, "adjustment_form": form,
            # Last month by default: the month about to be closed is the one whose energy is missing.
            "energy_form": energy_form or EnergyEntryForm(
                initial={"period": f"{previous_month(timezone.now().date()):%Y-%m}"}),
            "energy_entries": entry_selectors.energy_entry_list(scope=scope, customer_id=customer.pk)[:200],
            "versions": contract_selectors.contract_version_rows(scope=scope, customer_id=customer.pk,
                                                                today=timezone.now().date()),
            "adjustments": entry_selectors.adjustment_list(scope=scope, customer_id=customer.pk)[:200]}


def _customer_form_post(request: HttpRequest, provider_slug: str, customer_slug: str, form_class: type,
                        form_key: str, write: Callable[[Scope, Customer, dict], str]) -> HttpResponse:
    """A form of the customer's billing page sent on its own (POST): once per submit key; errors shown on the page.
    `write` does the service call and returns the message to show."""
    staff_scope, scope, customer = _customer_ctx(request, provider_slug, customer_slug)
    back = contracts_url(provider_slug, customer.slug)
    if request.method != "POST":
        return redirect(back)
    staff_scope.require(Capability.MANAGE_BILLING)
    form = form_class(request.POST)
    if form.is_valid():
        done = submit_once(request, staff_scope, form,
                           lambda: (back, write(staff_scope, customer, form.cleaned_data)), back=back)
        if done:
            return done
    return render(request, "portal/staff/billing/customer.html",
                  _customer_page_ctx(staff_scope, scope, customer, **{form_key: form}))


@login_required
def adjustment_new(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    """Add an adjustment for the customer in an open month."""
    def write(scope: Scope, customer: Customer, data: dict) -> str:
        adjustment_create(scope=scope, customer_id=customer.pk, period=data["period"],
                          amount_sats=data["amount_btc"], memo=data["memo"], now=timezone.now())
        return f"Adjustment added to {data['period']:%Y-%m}."

    return _customer_form_post(request, provider_slug, customer_slug, AdjustmentForm, "form", write)


@login_required
def energy_entry_new(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    """Enter (or replace) a month's energy for the customer."""
    def write(scope: Scope, customer: Customer, data: dict) -> str:
        energy_entry_set(scope=scope, customer_id=customer.pk, period=data["period"], kwh=data["kwh"],
                         memo=data["memo"], now=timezone.now())
        return f"Energy for {data['period']:%Y-%m} entered."

    return _customer_form_post(request, provider_slug, customer_slug, EnergyEntryForm, "energy_form", write)


@login_required
def contract_version_new(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    """A new dated version of the customer's contract (the first one creates the contract)."""
    staff_scope, scope, customer = _customer_ctx(request, provider_slug, customer_slug)
    staff_scope.require(Capability.MANAGE_BILLING)
    current = contract_selectors.contract_current_by_customer(scope=scope, customer_ids=[customer.pk],
                                                             today=timezone.now().date()).get(customer.pk)
    form = ContractVersionNewForm(request.POST or None,
                                  initial=ContractTermsForm.initial_from(current) if current else None)
    if request.method == "POST" and form.is_valid():
        def write() -> tuple[str, str]:
            version = contract_version_create(scope=staff_scope, customer_id=customer.pk,
                                              effective_from=form.cleaned_data["effective_from"], terms=form.terms(),
                                              now=timezone.now())
            return (contracts_url(provider_slug, customer.slug),
                    f"The version from {version.effective_from} is saved.")

        done = submit_once(request, staff_scope, form, write, back=contracts_url(provider_slug, customer.slug))
        if done:
            return done
    return render(request, "portal/staff/billing/version_form.html",
                  {**base_ctx(staff_scope), "customer": customer, "form": form, "version": None})


@login_required
def contract_version_edit(request: HttpRequest, provider_slug: str, customer_slug: str, pk: int) -> HttpResponse:
    """Correct a version's terms, where no closed statement used it; otherwise say why and what to do instead."""
    staff_scope, scope, customer = _customer_ctx(request, provider_slug, customer_slug)
    version = get_in_scope(ContractVersion, scope, pk=pk)
    row = next(r for r in contract_selectors.contract_version_rows(scope=scope, customer_id=customer.pk,
                                                                  today=timezone.now().date())
               if r.version.pk == version.pk)
    form = ContractTermsForm(request.POST or None, initial=ContractTermsForm.initial_from(version))
    if request.method == "POST":
        staff_scope.require(Capability.MANAGE_BILLING)
        if form.is_valid():
            try:
                contract_version_update(scope=staff_scope, version_id=version.pk, terms=form.terms())
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, f"The version from {version.effective_from} is corrected.")
                return redirect(contracts_url(provider_slug, customer.slug))
    return render(request, "portal/staff/billing/version_form.html",
                  {**base_ctx(staff_scope), "customer": customer, "form": form, "version": version, "row": row})
