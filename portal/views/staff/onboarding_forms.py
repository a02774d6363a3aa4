"""Forms of the onboarding flow: pick a customer, name the mining account (one-time key), choose the payout."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from mining.models import PayoutDestination
from mining.services.upstream_writes import NAME_RE, NAME_WORDS
from portal.views.once import OnceForm
from tenants.errors import UpstreamUnavailable
from tenants.models import Customer

POOL_NO_ANSWER = (
    "The pool did not answer in time, so it is not known whether the account was created. Send the form again "
    "with the same values: the portal asks the pool first and never creates it twice."
)
POOL_UNCLEAR = ("It is not known whether the account was created: sending the form again with the same values "
                "checks the pool first and never creates it twice.")


class PickCustomerForm(forms.Form):
    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), to_field_name="slug",
                                      empty_label="Choose a customer…", label="Existing customer")

    def __init__(self, *args, customers: QuerySet[Customer], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers


class MiningAccountForm(OnceForm):
    name = forms.CharField(
        max_length=255, label="Account name on the pool",
        help_text=f"{NAME_WORDS} It cannot be changed later, and miners type it in their settings.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}),
    )
    label = forms.CharField(max_length=200, required=False, label="Label (for your staff)",
                            help_text="Site, rack or hardware batch, e.g. “Site A, S19j”.")
    reused_words = "This form was already sent with other values. Check the name and label, then send it again."

    def upstream_words(self, exc: UpstreamUnavailable) -> str:
        """Refused at the door: the pool's words; otherwise the account may exist, and a resend is safe."""
        if not exc.reached_upstream:
            return exc.user_message
        return POOL_NO_ANSWER if exc.retryable else f"{exc.user_message} {POOL_UNCLEAR}"

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
