"""Forms of the onboarding flow: pick a customer, name the mining account (one-time key), choose the payout."""

from __future__ import annotations

import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from mining.models import PayoutDestination
from mining.services.upstream_writes import NAME_RE, NAME_WORDS
from tenants.models import Customer


def new_form_key() -> str:
    """The one-time idempotency key a rendered account form carries (a retried or doubled POST reuses it)."""
    return uuid.uuid4().hex


class PickCustomerForm(forms.Form):
    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), to_field_name="slug",
                                      empty_label="Choose a customer…", label="Existing customer")

    def __init__(self, *args, customers: QuerySet[Customer], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers


class MiningAccountForm(forms.Form):
    name = forms.CharField(
        max_length=255, label="Account name on the pool",
        help_text=f"{NAME_WORDS} It cannot be changed later, and miners type it in their settings.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}),
    )
    label = forms.CharField(max_length=200, required=False, label="Label (for your staff)",
                            help_text="Site, rack or hardware batch, e.g. “Site A, S19j”.")
    key = forms.CharField(widget=forms.HiddenInput, max_length=255)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not NAME_RE.match(name):
            raise ValidationError(f"“{name}” is not a valid mining account name. {NAME_WORDS}")
        return name


class PayoutForm(forms.Form):
    destination = forms.ChoiceField(choices=PayoutDestination.choices, widget=forms.RadioSelect,
                                    label="Where the pool pays this account")
    address = forms.CharField(max_length=100, required=False, label="Bitcoin address",
                              help_text="Only for an external address: legacy (1…), P2SH (3…) or bech32 (bc1…).",
                              widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                                            "autocapitalize": "none"}))
    customer_owns_address = forms.BooleanField(
        required=False, label="The address is the customer's own",
        help_text="Statements then count this account's rewards as already held by the customer from the day the "
                  "change is applied (the contract's own-address list is updated). Untick for your own wallet.")
