"""Staff: alert channels (list, add, test, resume, delete, delivery log), the Telegram bot, incidents and mutes."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone

from mining.models import AlertMute, MiningAccount, TelegramBot, Worker
from mining.selectors import incidents as selectors_alerts
from mining.services.alert_channels import alert_mute_create, alert_mute_end, telegram_bot_set
from portal.views import alert_channels_common as common
from portal.views.access_common import scope_or_404
from tenants import selectors
from tenants.access import Capability, get_in_scope, scoped


def _ctx(request: HttpRequest, provider_slug: str) -> tuple:
    scope = scope_or_404(request, provider_slug=provider_slug)
    return scope, {"scope": scope, "provider": selectors.provider_get(scope=scope), "side": "staff",
                   "can_manage": scope.can(Capability.MANAGE_ACCOUNTS)}


@login_required
def alert_channels(request: HttpRequest, provider_slug: str) -> HttpResponse:
    scope, ctx = _ctx(request, provider_slug)
    if request.method == "POST" and request.POST.get("form") == "bot":
        try:
            telegram_bot_set(scope=scope, token=request.POST.get("token", ""))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Bot token saved; it is never shown again.")
        return redirect("staff:alert_channels", provider_slug)
    extra = {"has_bot": scoped(TelegramBot, scope).exists(), "can_set_bot": scope.can(Capability.MANAGE_CREDENTIALS)}
    return common.channels_page(request, scope=scope, ctx=ctx, url_ns="staff", url_args=[provider_slug],
                                template_extra=extra)


@login_required
def alert_channel(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    scope, ctx = _ctx(request, provider_slug)
    return common.channel_detail(request, scope=scope, ctx=ctx, url_ns="staff", url_args=[provider_slug], pk=pk)


def _action(name: str):
    @login_required
    def view(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
        scope = scope_or_404(request, provider_slug=provider_slug)
        return common.channel_action(request, scope=scope, url_ns="staff", url_args=[provider_slug], pk=pk,
                                     action=name)
    view.__name__ = f"alert_channel_{name}"
    return view


alert_channel_test = _action("test")
alert_channel_delete = _action("delete")
alert_channel_resume = _action("resume")


class MuteForm(forms.Form):
    target = forms.CharField(help_text="worker:<id>, account:<id> or rule:<id>")
    hours = forms.DecimalField(min_value=0.25, max_value=24 * 30, initial=1, label="For (hours)")
    reason = forms.CharField(required=False, max_length=200)


@login_required
def incidents(request: HttpRequest, provider_slug: str) -> HttpResponse:
    """Incidents (open and history) and the mutes in force, with a form to mute a worker, an account or a rule."""
    scope, ctx = _ctx(request, provider_slug)
    now = timezone.now()
    form = MuteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        kind, _, ident = form.cleaned_data["target"].partition(":")
        ids = {"worker_id": None, "account_id": None, "rule_id": None}
        if f"{kind}_id" in ids and ident.isdigit():
            ids[f"{kind}_id"] = int(ident)
        try:
            alert_mute_create(scope=scope, until_at=now + timedelta(hours=float(form.cleaned_data["hours"])),
                              reason=form.cleaned_data["reason"], **ids)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Muted.")
            return redirect("staff:incidents", provider_slug)
    state = request.GET.get("state") if request.GET.get("state") in ("open", "history") else "open"
    return render(request, "portal/incidents.html", {
        **ctx, "state": state, "form": form, "incidents": selectors_alerts.incident_list(scope=scope, state=state),
        "mutes": selectors_alerts.alert_mute_list(scope=scope, now=now),
        "workers": scoped(Worker, scope).order_by("name").values_list("pk", "name")[:500],
        "accounts": scoped(MiningAccount, scope).order_by("name").values_list("pk", "name"),
        "rules": [(r.pk, str(r)) for r in selectors_alerts.alert_rule_list(scope=scope)],
    })


@login_required
def mute_end(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    get_in_scope(AlertMute, scope, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    alert_mute_end(scope=scope, mute_id=pk)
    messages.success(request, "Mute ended.")
    return redirect("staff:incidents", provider_slug)
