"""Onboarding in one flow: customer → mining account created on the pool → stratum hand-over → payout destination.

The account step writes to the pool, so its form carries a one-time idempotency key (made when the form is rendered)
and claims it through tenants/idempotency.py exactly as the REST API does: a retried or double-clicked submit gets
the first result (the same hand-over page), a concurrent one waits for it, and after a pool timeout the retry lets
mining_account_create look upstream before creating anything. The hand-over and payout pages stay reachable from
the accounts list and the customer page for later use.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse

from mining.models import MiningAccount, PayoutChange, PayoutDestination
from mining.selectors.payouts import payout_changes_pending, payout_changes_recent
from mining.services.handover import (
    handover_text,
    handover_urls,
    handover_worker_example,
    mining_account_handover_send,
)
from mining.services.miner_info import mining_account_miner_info_refresh
from mining.services.payouts import payout_change_cancel, payout_change_request
from mining.services.upstream_writes import mining_account_create
from portal.access_forms import form_errors_from
from portal.errors import upstream_attempt
from portal.views.access_common import scope_or_404
from portal.views.actions import post_action
from portal.views.once import write_once
from portal.views.payout_forms import payout_change_saved_words, payout_code_field_add
from portal.views.staff.customers import CustomerForm
from portal.views.staff.onboarding_forms import MiningAccountForm, PayoutForm, PickCustomerForm
from tenants import selectors
from tenants.access import Capability, Scope, get_in_scope, scoped
from tenants.models import Customer

STEPS = ("Customer", "Mining account", "Connect the miners", "Payout")


def _stepper(current: int) -> list[dict]:
    return [{"n": i, "title": t, "state": "done" if i < current else "current" if i == current else "todo"}
            for i, t in enumerate(STEPS, start=1)]


def _ctx(request: HttpRequest, scope: Scope, **extra) -> dict:
    return {"scope": scope, "provider": selectors.provider_get(scope=scope), **extra}


@login_required
def onboard_start(request: HttpRequest, provider_slug: str) -> HttpResponse:
    """Step 1: pick an existing customer, or create one (staff who may manage customers)."""
    scope = scope_or_404(request, provider_slug=provider_slug)
    scope.require(Capability.MANAGE_ACCOUNTS)
    can_create = scope.can(Capability.MANAGE_CUSTOMERS)
    customers = scoped(Customer, scope).filter(status=Customer.Status.ACTIVE).order_by("name").only("pk", "name",
                                                                                                   "slug")
    action = request.POST.get("action") if request.method == "POST" else None
    pick = PickCustomerForm(request.POST if action == "pick" else None, customers=customers,
                            initial={"customer": request.GET.get("customer")})
    new = CustomerForm(request.POST if action == "create" else None, prefix="new")
    if action == "pick" and pick.is_valid():
        return redirect("staff:onboard_account", provider_slug=provider_slug,
                        customer_slug=pick.cleaned_data["customer"].slug)
    if action == "create":
        scope.require(Capability.MANAGE_CUSTOMERS)
        if customer := new.create(scope):
            messages.success(request, f"{customer.name} is created. Next: its mining account on the pool.")
            return redirect("staff:onboard_account", provider_slug=provider_slug, customer_slug=customer.slug)
    return render(request, "portal/staff/onboarding/customer.html",
                  _ctx(request, scope, steps=_stepper(1), pick=pick, new=new, can_create=can_create))


def _handover_url(provider_slug: str, account_id: int) -> str:
    return reverse("staff:account_connect", args=[provider_slug, account_id]) + "?onboarding=1"


@login_required
def onboard_account(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    """Step 2: create the customer's mining account on the pool, at most once per rendered form.

    A concurrent submit of the same form (double click) waits a little for the first one's answer: the browser
    shows only the last response of a double click, so answering "busy" at once would hide the account the first
    click made.
    """
    scope = scope_or_404(request, provider_slug=provider_slug)
    customer = get_in_scope(Customer, scope, slug=customer_slug)
    scope.require(Capability.MANAGE_ACCOUNTS)
    if request.method != "POST":
        return _account_page(request, scope, customer, MiningAccountForm())
    form = MiningAccountForm(request.POST)
    if not form.is_valid():
        return _account_page(request, scope, customer, form)
    data = form.cleaned_data

    def write(attempt) -> tuple[int, dict]:
        account = mining_account_create(scope=scope, name=data["name"], label=data["label"],
                                        customer_id=customer.pk, attempt=attempt)
        return 302, {"account_id": account.pk}

    sent = write_once(request, scope, form, write, body={**form.once_body(), "customer_id": customer.pk},
                      wait_s=float(getattr(settings, "ONBOARDING_CONCURRENT_WAIT_S", 8.0)))
    if sent is None:
        status = 503 if form.upstream_error is not None and form.upstream_error.retryable else 200
        return _account_page(request, scope, customer, form, status=status)
    if sent.state == "running":
        form.add_error(None, f"“{data['name']}” is already being created from this form. Wait a few seconds, "
                             "then reload the accounts list.")
        return _account_page(request, scope, customer, form, status=409)
    account_id = sent.body["account_id"]
    if sent.state == "written":
        upstream_attempt(lambda: mining_account_miner_info_refresh(scope=scope, account_id=account_id))
        # (the hand-over page asks again and says so when the pool stays silent)
        messages.success(request, f"{data['name']} is created on the WhiteBIT pool and assigned to {customer.name}.")
    return redirect(_handover_url(provider_slug, account_id))


def _account_page(request, scope, customer, form, *, status: int = 200) -> HttpResponse:
    provider = selectors.provider_get(scope=scope)
    return render(request, "portal/staff/onboarding/account.html",
                  _ctx(request, scope, steps=_stepper(2), customer=customer, form=form,
                       has_credentials=bool(provider.whitebit_api_key and provider.has_api_secret)),
                  status=status)


@login_required
def account_connect(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    """Step 3, and later "Connection details": what the customer types into their miners, from the pool."""
    scope = scope_or_404(request, provider_slug=provider_slug)
    account = get_in_scope(MiningAccount.objects.select_related("customer"), scope, pk=pk)
    pool_problem = ""
    if not account.stratum_urls or request.GET.get("refresh"):
        refreshed, pool_problem = upstream_attempt(
            lambda: mining_account_miner_info_refresh(scope=scope, account_id=account.pk))
        account = refreshed or account
    onboarding = bool(request.GET.get("onboarding"))
    worker_example = handover_worker_example(account)
    urls = handover_urls(account)
    plain = handover_text(account)
    return render(request, "portal/staff/onboarding/connect.html", _ctx(
        request, scope, steps=_stepper(3), onboarding=onboarding, account=account, urls=urls,
        pool_problem=pool_problem, worker_example=worker_example, plain=plain,
        can_payout=scope.can(Capability.MANAGE_PAYOUT), can_send=scope.can(Capability.MANAGE_ACCOUNTS),
    ))


@login_required
def account_handover_send(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    """"Send to the customer": the hand-over e-mailed to the customer's contacts, once however often clicked."""
    scope = scope_or_404(request, provider_slug=provider_slug)  # an outsider's 404 before anything else
    get_in_scope(MiningAccount, scope, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        sent_to = mining_account_handover_send(scope=scope, account_id=pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, ("Sent the connection details to " + ", ".join(sent_to) + ".") if sent_to else
                         "These connection details were already sent to every contact; nothing was sent again.")
    back = reverse("staff:account_connect", args=[provider_slug, pk])
    return redirect(back + ("?onboarding=1" if request.POST.get("onboarding") else ""))


@login_required
def account_payout(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    """Step 4, and later "Payout": main balance or an external address, asked with a fresh code and held
    (mining.services.payouts) before the task sends it to the pool."""
    scope = scope_or_404(request, provider_slug=provider_slug)
    account = get_in_scope(MiningAccount.objects.select_related("customer"), scope, pk=pk)
    onboarding = bool(request.GET.get("onboarding"))
    can_manage = scope.can(Capability.MANAGE_PAYOUT)
    initial = {"destination": account.payout_destination or PayoutDestination.MAIN_BALANCE,
               "address": account.payout_address, "customer_owns_address": True}
    form = PayoutForm(request.POST or None, initial=initial)
    payout_code_field_add(form, request.user)
    if request.method == "POST":
        scope.require(Capability.MANAGE_PAYOUT)
        if form.is_valid():
            try:
                change = payout_change_request(
                    scope=scope, account_id=account.pk, destination=form.cleaned_data["destination"],
                    address=form.cleaned_data["address"], code=form.cleaned_data.get("code", ""),
                    customer_owns_address=form.cleaned_data["customer_owns_address"])
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, payout_change_saved_words(change))
                return _after_payout(provider_slug, account, onboarding)
    done_url = _done_url(provider_slug, account) if onboarding else ""
    pending = payout_changes_pending(scope=scope, account_ids=[account.pk])
    for change in pending:
        change.cancel_url = reverse("staff:payout_change_cancel", args=[provider_slug, change.pk])
    return render(request, "portal/staff/onboarding/payout.html", _ctx(
        request, scope, steps=_stepper(4), onboarding=onboarding, account=account, form=form,
        can_manage=can_manage, done_url=done_url, pending_changes=pending,
        recent_changes=payout_changes_recent(scope=scope, account_ids=[account.pk]), can_cancel=can_manage,
    ))


@login_required
def payout_change_cancel_view(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    """Staff who manage payouts cancel a pending change; another provider's change is a 404."""
    scope = scope_or_404(request, provider_slug=provider_slug)
    get_in_scope(PayoutChange, scope, pk=pk)  # 404 before anything else for another tenant's change

    def cancel() -> tuple[str, str]:
        change = payout_change_cancel(scope=scope, change_id=pk)
        return (f"Canceled: the change of {change.account.name} will not be sent to the pool.",
                reverse("staff:account_payout", args=[provider_slug, change.account_id]))

    return post_action(request, cancel, back=reverse("staff:accounts", args=[provider_slug]))


def _done_url(provider_slug: str, account: MiningAccount) -> str:
    if account.customer_id:
        return reverse("staff:customer_detail", args=[provider_slug, account.customer.slug])
    return reverse("staff:accounts", args=[provider_slug])


def _after_payout(provider_slug: str, account: MiningAccount, onboarding: bool) -> HttpResponse:
    return redirect(_done_url(provider_slug, account) if onboarding else reverse("staff:accounts",
                                                                                 args=[provider_slug]))
