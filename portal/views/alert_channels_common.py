"""The alert channel pages shared by staff (`/p/…/alerts/channels/`) and a customer's admin (`/c/…/alerts/channels/`).

One form and one template for both sides; each side's thin views resolve their own scope and pass the URL names.
The signing secret and the Telegram code are shown once, on the page the create redirects to (kept in the session
for that one page), never again.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse

from mining.models import AlertKind, ChannelKind
from mining.selectors import incidents as selectors_alerts
from mining.services.alert_channels import (
    alert_channel_create,
    alert_channel_delete,
    alert_channel_resume,
    alert_channel_test,
)
from portal.access_forms import form_errors_from
from portal.timezones import user_timezone

ONCE_KEY = "alert_channel_once"


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(choices=ChannelKind.choices, label="Kind")
    name = forms.CharField(max_length=80, label="Name", help_text="For you, e.g. “Night shift Slack”.")
    url = forms.CharField(required=False, label="Webhook address",
                          help_text="Slack, Teams, Discord or your own endpoint: the https://… address to post to.")
    emails = forms.CharField(required=False, label="E-mail addresses", help_text="For e-mail: comma-separated.")
    kinds = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple, label="Which alerts",
                                      choices=AlertKind.choices, help_text="None ticked: all of them.")


def channels_page(request: HttpRequest, *, scope, ctx: dict, url_ns: str, url_args: list, template_extra: dict
                  ) -> HttpResponse:
    """List the channels in scope and create one (POST)."""
    form = ChannelForm(request.POST or None)
    if request.method == "POST" and request.POST.get("form") != "bot":
        if form.is_valid():
            data = form.cleaned_data
            try:
                created = alert_channel_create(
                    scope=scope, kind=data["kind"], name=data["name"], url=data["url"].strip(),
                    emails=[e for e in (x.strip() for x in data["emails"].split(",")) if e],
                    kinds=data["kinds"], customer_id=ctx.get("customer_id"),
                    timezone_name=str(user_timezone(request)))
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                request.session[ONCE_KEY] = {"id": created.channel.pk, "secret": created.secret,
                                             "code": created.bind_code}
                messages.success(request, f"Channel “{created.channel.name}” added.")
                return redirect(f"{url_ns}:alert_channel", *url_args, created.channel.pk)
    channels = list(selectors_alerts.alert_channel_list(scope=scope))
    for c in channels:
        c.detail_url = reverse(f"{url_ns}:alert_channel", args=[*url_args, c.pk])
    return render(request, "portal/alert_channels.html",
                  {**ctx, **template_extra, "form": form, "channels": channels})


def channel_detail(request: HttpRequest, *, scope, ctx: dict, url_ns: str, url_args: list, pk: int) -> HttpResponse:
    channel = selectors_alerts.alert_channel_get(scope=scope, channel_id=pk)
    once = request.session.pop(ONCE_KEY, None)
    once = once if once and once.get("id") == channel.pk else None
    urls = {name: reverse(f"{url_ns}:alert_channel_{name}", args=[*url_args, pk])
            for name in ("test", "delete", "resume")}
    return render(request, "portal/alert_channel.html", {
        **ctx, "channel": channel, "once": once, "urls": urls,
        "back_url": reverse(f"{url_ns}:alert_channels", args=url_args),
        "deliveries": selectors_alerts.alert_delivery_log(scope=scope, channel_id=pk),
    })


def channel_action(request: HttpRequest, *, scope, url_ns: str, url_args: list, pk: int, action: str
                   ) -> HttpResponse:
    selectors_alerts.alert_channel_get(scope=scope, channel_id=pk)  # 404 for outsiders before the method check
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        if action == "test":
            alert_channel_test(scope=scope, channel_id=pk)
            messages.success(request, "Test message queued; its answer shows below within a few seconds.")
        elif action == "resume":
            alert_channel_resume(scope=scope, channel_id=pk)
            messages.success(request, "The channel takes alerts again.")
        else:
            alert_channel_delete(scope=scope, channel_id=pk)
            messages.success(request, "Channel deleted.")
            return redirect(f"{url_ns}:alert_channels", *url_args)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(f"{url_ns}:alert_channel", *url_args, pk)
