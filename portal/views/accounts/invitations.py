"""The invitation link: choose a password, become a member, and (staff) go on to set up the second factor.

An address that already has an account accepts only while signed in as that account (consent, issue 15): the page
then offers "sign in to accept" and comes back here after the sign-in."""

from __future__ import annotations

from django.contrib.auth import login, logout
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from portal.access_forms import AcceptInvitationForm, form_errors_from
from tenants.services.invitations import (
    InvitationInvalid,
    InvitationNeedsSignIn,
    invitation_accept,
    invitation_get_for_token,
)
from tenants.services.two_factor import user_needs_second_factor


@never_cache
def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = invitation_get_for_token(token=token)
    except InvitationInvalid as exc:
        return render(request, "portal/accounts/invitation_invalid.html", {"reason": str(exc)}, status=410)
    from django.contrib.auth import get_user_model

    existing = get_user_model().objects.filter(username=invitation.email).exists()
    signed_in_as = request.user if request.user.is_authenticated else None
    wrong_account = existing and signed_in_as is not None and signed_in_as.username != invitation.email
    form = AcceptInvitationForm(request.POST if request.method == "POST" else None)
    if existing:
        form.fields["password"].required = form.fields["password_again"].required = False
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept(token=token, password=form.cleaned_data.get("password") or "",
                                     password_again=form.cleaned_data.get("password_again") or "",
                                     signed_in_user=signed_in_as)
        except InvitationNeedsSignIn as exc:
            form.add_error(None, str(exc))
        except InvitationInvalid as exc:
            return render(request, "portal/accounts/invitation_invalid.html", {"reason": str(exc)}, status=410)
        except ValidationError as exc:
            form_errors_from(form, exc)
        else:
            if existing:  # they accepted signed in as themselves: the new membership is theirs at once
                return redirect("home")
            logout(request)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            if user_needs_second_factor(user):
                return redirect("accounts:otp_setup")
            return redirect("home")
    return render(request, "portal/accounts/invitation_accept.html",
                  {"form": form, "invitation": invitation, "existing": existing, "signed_in_as": signed_in_as,
                   "wrong_account": wrong_account, "where": invitation.customer or invitation.provider},
                  status=400 if form.errors else 200)
