"""Forms of accounts and access. They only shape input; the rules live in tenants.services."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError

from tenants.brand import user_belongs_to_provider
from tenants.models import CustomerRole, StaffRole
from tenants.services.passwords import password_reset_request


def form_errors_from(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form, field by field where the form has the field."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for message in exc.messages:
            form.add_error(None, message)


class LoginForm(AuthenticationForm):
    """Django's sign-in form. On a provider's own domain (`only_provider_id`) only that provider's staff and its
    customers' users get in; anyone else gets exactly the wrong-password error, so the page tells an outsider
    nothing about which addresses have accounts elsewhere on the platform."""

    only_provider_id: int | None = None

    def clean_username(self) -> str:
        return (self.cleaned_data.get("username") or "").strip().lower()

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if self.only_provider_id is None:
            return
        if not user_belongs_to_provider(user, self.only_provider_id):
            raise self.get_invalid_login_error()


class CodeForm(forms.Form):
    code = forms.CharField(label="Code", max_length=32, strip=True,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text",
                                                         "autofocus": True}))


class StepUpForm(forms.Form):
    """What changing the second factor asks for besides the session: the password and a current code."""

    current_password = forms.CharField(
        label="Your current password", strip=False,
        error_messages={"required": "Type your current password."},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    current_code = forms.CharField(
        label="A code from your authenticator app, or one of your recovery codes", max_length=32, strip=True,
        error_messages={"required": "Type the code your authenticator shows now, or a recovery code."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text"}))


class StaffInviteForm(forms.Form):
    email = forms.EmailField(label="E-mail")
    role = forms.ChoiceField(choices=StaffRole.choices, initial=StaffRole.OPERATOR)


class CustomerUserInviteForm(forms.Form):
    email = forms.EmailField(label="E-mail")
    role = forms.ChoiceField(choices=CustomerRole.choices, initial=CustomerRole.VIEWER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=StaffRole.choices)


class AcceptInvitationForm(forms.Form):
    password = forms.CharField(label="Choose a password", strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password_again = forms.CharField(label="The same password again", strip=False,
                                     widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))


class AuditFilterForm(forms.Form):
    object_type = forms.CharField(required=False, max_length=80, label="Object type")
    object_id = forms.CharField(required=False, max_length=64, label="Object id")
    user = forms.CharField(required=False, max_length=200, label="User (e-mail)")
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if isinstance(start, dt.date) and isinstance(end, dt.date) and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's reset form, but the e-mail goes through the outbox (retried, never lost), one per matching
    account, and the link is built from PORTAL_BASE_URL rather than the request's Host header."""

    def save(self, **kwargs) -> None:
        for user in self.get_users(self.cleaned_data["email"]):
            password_reset_request(user=user)
