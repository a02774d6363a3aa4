"""A customer's alert settings: who gets the alert e-mails (contact addresses, and which of their portal users),
and which rules watch their accounts (read-only)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from mining.selectors import alerts as alert_selectors
from portal.access_forms import form_errors_from
from portal.views.customer.common import customer_context
from portal.views.staff.customers import CustomerForm
from tenants.access import Capability, scoped
from tenants.models import CustomerMembership
from tenants.services.customers import customer_alert_recipients_set, customer_contacts_set


class ContactsForm(CustomerForm):
    """Only the contact field of the customer form, with the same address check."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["name"], self.fields["slug"]


@login_required
def alert_settings(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    ctx = customer_context(request, provider_slug, customer_slug)
    scope, customer = ctx["scope"], ctx["customer"]
    can_edit = scope.can(Capability.MANAGE_CUSTOMER_USERS)
    form = ContactsForm(request.POST or None, initial={"contact_emails": "\n".join(customer.contact_emails)})
    if request.method == "POST" and request.POST.get("form") == "recipients":
        scope.require(Capability.MANAGE_CUSTOMER_USERS)
        ids = [int(v) for v in request.POST.getlist("receives") if v.isdigit()]
        customer_alert_recipients_set(scope=scope, customer_id=customer.pk, receiving_membership_ids=ids)
        messages.success(request, "Saved: alert e-mails go to the ticked users from now on.")
        return redirect("customer:alert_settings", provider_slug=provider_slug, customer_slug=customer_slug)
    if request.method == "POST":
        scope.require(Capability.MANAGE_CUSTOMER_USERS)
        if form.is_valid():
            try:
                customer_contacts_set(scope=scope, customer_id=customer.pk,
                                      contact_emails=form.cleaned_data["contact_emails"])
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, "Saved: alert e-mails go to these addresses from now on.")
                return redirect("customer:alert_settings", provider_slug=provider_slug, customer_slug=customer_slug)
    ctx.update({
        "form": form,
        "can_edit": can_edit,
        "users": scoped(CustomerMembership, scope).select_related("user").exclude(user__email="")
        .order_by("user__email"),
        "rules": alert_selectors.alert_rules_for_customer(scope=scope),
    })
    return render(request, "portal/customer/alert_settings.html", ctx)
