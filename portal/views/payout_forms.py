"""The part of a payout form both payout pages share (customer's and staff's): the fresh second-factor code.

A payout change asks for a code from the authenticator app; a customer admin without one is told that a
confirmation link will be e-mailed instead (mining/services/payouts.py). The rules are the service's."""

from __future__ import annotations

from typing import Any

from django import forms

from tenants.services.two_factor import user_has_second_factor


def payout_code_field_add(form: forms.Form, user: Any) -> bool:
    """Add the code field when the user has an authenticator; whether they have one."""
    has = user_has_second_factor(user)
    if has:
        form.fields["code"] = forms.CharField(
            label="Code from your authenticator app", max_length=32, required=False, strip=True,
            help_text="A payout change asks for a fresh code: the pool has no undo.",
            widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))
    return has


def payout_change_saved_words(change: Any) -> str:
    """What the person is told after asking: held until when, or check your e-mail."""
    if change.status == "requested":
        return (f"Almost done: we e-mailed a confirmation link to {change.requested_by_label} (valid 30 minutes). "
                "Nothing changes until you open it.")
    return (f"Held: {change.account.name} will be paid to {change.where} from {change.due_at:%Y-%m-%d %H:%M} UTC "
            "unless someone cancels it. Your provider's owners and admins and the customer's contacts were e-mailed, "
            "each with a cancel link.")
