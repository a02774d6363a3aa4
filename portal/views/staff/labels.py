"""Labels in the staff console: the list (create, delete), tagging one account, and tagging workers in bulk.

Views stay thin: the scope comes from the URL, reads from `mining.selectors_labels`, writes through
`mining.services.labels` (capability check and audit there).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from mining.models import MiningAccount
from mining.models.labels import LABEL_NAME_MAX, Label, LabelKind
from mining.selectors import labels as label_selectors
from mining.services.labels import label_create, label_delete, labels_set_for_account, labels_set_for_workers
from portal.access_forms import form_errors_from
from portal.views.access_common import scope_or_404
from portal.views.actions import post_action, posted_next
from portal.views.customer.common import int_or_none
from tenants import selectors
from tenants.access import Capability, get_in_scope


class LabelForm(forms.Form):
    kind = forms.ChoiceField(choices=LabelKind.choices, label="Kind")
    # The length is checked by the service (one message for forms and the API); the browser only gets a hint.
    name = forms.CharField(label="Name", required=False, widget=forms.TextInput(attrs={"maxlength": LABEL_NAME_MAX}),
                           help_text="e.g. Kyiv north (site), R12 (rack), S21 2025-03 (hardware batch).")


@login_required
def labels(request: HttpRequest, provider_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    form = LabelForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                label = label_create(scope=scope, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, f"Label “{label}” created. Tag accounts and workers with it on their pages.")
                return redirect("staff:labels", provider_slug=provider_slug)
        else:
            scope.require(Capability.MANAGE_ACCOUNTS)
    ctx = {"scope": scope, "provider": selectors.provider_get(scope=scope), "form": form,
           "labels": label_selectors.label_list(scope=scope), "can_manage": scope.can(Capability.MANAGE_ACCOUNTS)}
    return render(request, "portal/staff/labels.html", ctx)


@login_required
def label_remove(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    label = get_in_scope(Label, scope, pk=pk)

    def delete() -> str:
        label_delete(scope=scope, label_id=label.pk)
        return f"Label “{label}” deleted; the accounts and workers it tagged are unchanged."

    return post_action(request, delete, back=reverse("staff:labels", args=[provider_slug]))


@login_required
def account_labels(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    account = get_in_scope(MiningAccount, scope, pk=pk)

    def save() -> str:
        ids = [i for i in (int_or_none(v) for v in request.POST.getlist("labels")) if i is not None]
        labels_set_for_account(scope=scope, account_id=account.pk, label_ids=ids)
        return f"Labels of {account.name} saved."

    return post_action(request, save, back=posted_next(request, reverse("staff:accounts", args=[provider_slug])))


@login_required
def worker_labels(request: HttpRequest, provider_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)

    def tag() -> str:
        label_id = int_or_none(request.POST.get("label"))
        workers = [i for i in (int_or_none(v) for v in request.POST.getlist("workers")) if i is not None]
        if label_id is None:
            raise ValidationError("Choose the label to add or remove.")
        label = get_in_scope(Label, scope, pk=label_id)
        add = request.POST.get("action") != "remove"
        changed = labels_set_for_workers(scope=scope, worker_ids=workers, label_id=label.pk, add=add)
        verb = "now carry" if add else "no longer carry"
        return f"{changed} worker{'s' if changed != 1 else ''} {verb} “{label}”."

    return post_action(request, tag, back=posted_next(request, reverse("staff:workers", args=[provider_slug])))
