"""The two links a held payout change e-mails: the requester's confirmation, and each recipient's cancel link.

The link's token is the credential (a recipient may be a contact address with no account here), so neither page
needs a sign-in. Opening a link changes nothing (mail scanners open links); the button on the page does, once.
The rules are the service's (mining.services.payouts)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from mining.models.payouts import PayoutChangeToken
from mining.services.payouts import payout_change_cancel_by_link, payout_change_confirm_by_link, payout_change_for_link

TEMPLATE = "portal/accounts/payout_change_link.html"


def _page(request: HttpRequest, token: str, purpose: str, act) -> HttpResponse:
    change, refusal = payout_change_for_link(token=token, purpose=purpose)  # 404 for a token that never existed
    done = ""
    if request.method == "POST" and not refusal:
        try:
            change = act(token=token)
        except ValidationError as exc:
            refusal = " ".join(exc.messages)
        else:
            done = change.status
    return render(request, TEMPLATE, {"change": change, "purpose": purpose, "refusal": refusal, "done": done},
                  status=410 if refusal else 200)


def payout_change_confirm_view(request: HttpRequest, token: str) -> HttpResponse:
    return _page(request, token, PayoutChangeToken.Purpose.CONFIRM, payout_change_confirm_by_link)


def payout_change_cancel_link_view(request: HttpRequest, token: str) -> HttpResponse:
    return _page(request, token, PayoutChangeToken.Purpose.CANCEL, payout_change_cancel_by_link)
