"""Customers in the staff console: list with search and status, detail, create, suspend / reactivate."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from billing.selectors import contracts as contract_selectors
from billing.selectors import statements as statement_selectors
from mining.selectors import accounts as account_selectors
from mining.selectors import alerts as alert_selectors
from mining.selectors import customers as customer_selectors
from mining.selectors import labels as label_selectors
from mining.selectors import workers as worker_selectors
from mining.selectors.sync import with_sync_health
from portal.access_forms import form_errors_from
from portal.views.access_common import scope_or_404
from portal.views.actions import post_action
from portal.views.customer.common import int_or_none, page_of
from tenants import selectors
from tenants.access import Capability, Scope, get_in_scope, scoped
from tenants.models import Customer, CustomerMembership
from tenants.services.customers import customer_create_in_scope, customer_status_set

RECENT_STATEMENTS = 6


class CustomerForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(max_length=50, help_text="Part of the customer's web address: lower-case letters, digits, "
                                                    "hyphens.")
    contact_emails = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                     help_text="Who gets alerts and bills; one address per line or comma.")

    def clean_contact_emails(self) -> list[str]:
        raw = self.cleaned_data["contact_emails"].replace(",", "\n").split()
        emails = []
        for address in raw:
            try:
                validate_email(address)
            except ValidationError as exc:
                raise ValidationError(f"“{address}” is not an e-mail address.") from exc
            emails.append(address.lower())
        return emails

    def create(self, scope: Scope) -> Customer | None:
        """The customer this (bound) form asks for, through the one create service; None with the refusal on the
        form. Used by the customer list's "New customer" page and by onboarding's first step."""
        if not self.is_valid():
            return None
        try:
            return customer_create_in_scope(scope=scope, **self.cleaned_data)
        except ValidationError as exc:
            form_errors_from(self, exc)
            return None


@login_required
def customer_list(request: HttpRequest, provider_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    q, status = request.GET.get("q", "").strip()[:100], request.GET.get("status", "")
    label_id = int_or_none(request.GET.get("label"))
    qs = customer_selectors.customer_list_for_console(scope=scope, search=q, status=status, label_id=label_id)
    ctx = {"scope": scope, "provider": selectors.provider_get(scope=scope), "page": page_of(qs, request, 50),
           "q": q, "status": status, "statuses": Customer.Status.choices, "label_id": label_id,
           "labels": label_selectors.label_choices(scope=scope),
           "can_manage": scope.can(Capability.MANAGE_CUSTOMERS),
           "can_onboard": scope.can(Capability.MANAGE_ACCOUNTS)}
    template = "portal/staff/_customer_rows.html" if request.path.endswith("/rows/") else "portal/staff/customers.html"
    return render(request, template, ctx)


@login_required
def customer_new(request: HttpRequest, provider_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    scope.require(Capability.MANAGE_CUSTOMERS)
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and (customer := form.create(scope)):
        messages.success(request, f"{customer.name} is created. Invite its users from its page.")
        return redirect("staff:customer_detail", provider_slug=provider_slug, customer_slug=customer.slug)
    return render(request, "portal/staff/customer_new.html",
                  {"scope": scope, "provider": selectors.provider_get(scope=scope), "form": form})


@login_required
def customer_detail(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    staff_scope = scope_or_404(request, provider_slug=provider_slug)
    customer = get_in_scope(Customer, staff_scope, slug=customer_slug)
    scope = staff_scope.narrowed_to_customer(customer.pk)
    ctx = {
        "scope": staff_scope,
        "provider": selectors.provider_get(scope=staff_scope),
        "customer": customer,
        "accounts": with_sync_health(worker_selectors.worker_states_attach(
            scope=scope, accounts=account_selectors.mining_account_list(scope=scope)), now=timezone.now()),
        "members": scoped(CustomerMembership, scope).select_related("user").order_by("user__email"),
        "alerts": alert_selectors.alert_list(scope=scope)[:20],
        "counts": worker_selectors.worker_state_counts(scope=scope),
        # Billing at a glance: the contract in force today and the last closed statements (links to the full pages).
        "contract": contract_selectors.contract_current_by_customer(
            scope=staff_scope, customer_ids=[customer.pk], today=timezone.now().date()).get(customer.pk),
        "statements": statement_selectors.statement_list(scope=scope)[:RECENT_STATEMENTS],
        "can_manage": staff_scope.can(Capability.MANAGE_CUSTOMERS),
        "can_onboard": staff_scope.can(Capability.MANAGE_ACCOUNTS),
    }
    return render(request, "portal/staff/customer_detail.html", ctx)


@login_required
def customer_status(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    customer = get_in_scope(Customer, scope, slug=customer_slug)

    def set_status() -> str:
        wanted = request.POST.get("status")
        if wanted not in Customer.Status.values:
            raise ValidationError("Choose suspend or reactivate.")
        changed = customer_status_set(scope=scope, customer_id=customer.pk, status=wanted)
        return f"{changed.name} is now {changed.get_status_display().lower()}."

    return post_action(request, set_status,
                       back=reverse("staff:customer_detail", args=[provider_slug, customer.slug]))
