"""Billing details: the provider's billing profile and each customer's billing details (what an invoice prints).

Why validated here, field by field: the portal's forms and the API call the same service, so a bad tax rate or an
unknown currency is refused with the same words wherever it is typed, and nothing is half-saved. Every change is
audited with its before/after (the logo only as "changed": it is large and not interesting in a log).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from billing.models.invoices import BillingProfile, CustomerBillingDetails, TaxTreatment
from tenants.access import Capability, Scope, get_in_scope, scoped
from tenants.audit import audit_record
from tenants.models import Customer

LOGO_MAX_BYTES = 200_000
CURRENCY = re.compile(r"^[A-Z]{3}$")
PREFIX = re.compile(r"^[A-Z0-9]{1,12}$")
_MAGIC = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


@dataclass
class ProfileInput:
    legal_name: str = ""
    address: str = ""
    tax_id: str = ""
    payment_instructions: str = ""
    footer: str = ""
    invoice_prefix: str = "INV"
    default_payment_terms_days: Any = 14


@dataclass
class DetailsInput:
    legal_name: str = ""
    address: str = ""
    tax_id: str = ""
    billing_email: str = ""
    currency: str = "BTC"
    payment_terms_days: Any = 14
    tax_treatment: str = TaxTreatment.OUTSIDE_SCOPE
    tax_rate_bps: Any = 0


def logo_data_uri(raw: bytes) -> str:
    """A PNG or JPEG as a data: URI, refused (in words) when it is something else or too large."""
    if len(raw) > LOGO_MAX_BYTES:
        raise ValidationError({"logo": f"The logo is {len(raw) // 1000} kB; give a PNG or JPEG of at most "
                                       f"{LOGO_MAX_BYTES // 1000} kB."})
    mime = next((m for magic, m in _MAGIC.items() if raw.startswith(magic)), None)
    if mime is None:
        raise ValidationError({"logo": "The logo must be a PNG or JPEG image."})
    return f"data:{mime};base64,{base64.b64encode(raw).decode()}"


def _days(value: Any, field: str, errors: dict) -> int:
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        errors[field] = "Give the payment terms as a whole number of days (0–365)."
        return 0
    if not 0 <= days <= 365:
        errors[field] = f"Give payment terms from 0 to 365 days (you gave {days})."
    return days


def _text(values: dict, errors: dict, limits: dict[str, int]) -> None:
    for name, limit in limits.items():
        values[name] = str(values.get(name) or "").strip()
        if len(values[name]) > limit:
            errors[name] = f"At most {limit} characters (this is {len(values[name])})."


def billing_profile_get(*, scope: Scope) -> BillingProfile:
    """The provider's profile, or an unsaved blank one (defaults) when none was saved yet."""
    found = scoped(BillingProfile, scope.provider_wide_reads()).first()
    return found or BillingProfile(provider_id=scope.provider_id)


_PROFILE_FIELDS = [f.name for f in fields(ProfileInput)]


def billing_profile_set(*, scope: Scope, data: ProfileInput, now: datetime, logo: bytes | None = None,
                        remove_logo: bool = False) -> BillingProfile:
    """Save the provider's billing profile (owners and admins). The prefix is letters and digits: it starts
    every invoice number (`DH-2026-0042`)."""
    scope.require(Capability.MANAGE_BILLING)
    values = {f: getattr(data, f) for f in _PROFILE_FIELDS}
    errors: dict[str, str] = {}
    _text(values, errors, {"legal_name": 200, "address": 1000, "tax_id": 40, "payment_instructions": 2000,
                           "footer": 1000, "invoice_prefix": 12})
    values["invoice_prefix"] = values["invoice_prefix"].upper()
    if not PREFIX.match(values["invoice_prefix"]):
        errors["invoice_prefix"] = "Give a prefix of 1–12 letters or digits, e.g. DH."
    values["default_payment_terms_days"] = _days(values["default_payment_terms_days"],
                                                 "default_payment_terms_days", errors)
    logo_uri = None
    if logo:
        try:
            logo_uri = logo_data_uri(logo)
        except ValidationError as exc:
            errors.update({k: " ".join(v) for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        profile = scoped(BillingProfile.objects.select_for_update(), scope).first()
        if profile is None:
            profile = BillingProfile(provider_id=scope.provider_id, updated_at=now)
            before: dict[str, Any] = {}
        else:
            before = {f: getattr(profile, f) for f in _PROFILE_FIELDS}
            before["logo"] = bool(profile.logo_data_uri)
        for name, value in values.items():
            setattr(profile, name, value)
        if logo_uri is not None:
            profile.logo_data_uri = logo_uri
        elif remove_logo:
            profile.logo_data_uri = ""
        profile.updated_at = now
        profile.save()
        after = {**values, "logo": bool(profile.logo_data_uri)}
        audit_record(scope=scope, action="billing_profile.update", target=profile, before=before, after=after)
    return profile


def customer_billing_details_get(*, scope: Scope, customer_id: int) -> CustomerBillingDetails:
    """The customer's details (404 outside the scope), or unsaved defaults from the provider's profile."""
    customer = get_in_scope(Customer, scope, pk=customer_id)
    found = scoped(CustomerBillingDetails, scope).filter(customer_id=customer.pk).first()
    if found is not None:
        return found
    profile = billing_profile_get(scope=scope)
    return CustomerBillingDetails(provider_id=scope.provider_id, customer=customer, legal_name=customer.name,
                                  billing_email=(customer.contact_emails or [""])[0],
                                  payment_terms_days=profile.default_payment_terms_days)


_DETAILS_FIELDS = [f.name for f in fields(DetailsInput)]


def customer_billing_details_set(*, scope: Scope, customer_id: int, data: DetailsInput,
                                 now: datetime) -> CustomerBillingDetails:
    """Save a customer's billing details: the customer's admin or the provider's billing staff. Tax: a rate
    (0–100 %), a reverse charge (needs the customer's tax id), or outside the scope of VAT."""
    customer = get_in_scope(Customer, scope, pk=customer_id)
    if not (scope.can(Capability.MANAGE_BILLING_DETAILS) or scope.can(Capability.MANAGE_BILLING)):
        scope.require(Capability.MANAGE_BILLING_DETAILS)
    values = {f: getattr(data, f) for f in _DETAILS_FIELDS}
    errors: dict[str, str] = {}
    _text(values, errors, {"legal_name": 200, "address": 1000, "tax_id": 40, "billing_email": 254,
                           "currency": 3, "tax_treatment": 16})
    values["currency"] = values["currency"].upper()
    if not CURRENCY.match(values["currency"]):
        errors["currency"] = "Give a three-letter currency code, e.g. BTC, USD or EUR."
    if values["billing_email"]:
        try:
            validate_email(values["billing_email"])
        except ValidationError:
            errors["billing_email"] = "Give a valid e-mail address for the invoices, or leave it empty."
    values["payment_terms_days"] = _days(values["payment_terms_days"], "payment_terms_days", errors)
    if values["tax_treatment"] not in TaxTreatment.values:
        errors["tax_treatment"] = "Choose a rate, reverse charge or outside the scope of VAT."
    try:
        rate = int(str(values["tax_rate_bps"] or 0).strip())
    except (TypeError, ValueError):
        rate = -1
    if not 0 <= rate <= 10_000:
        errors["tax_rate_bps"] = "Give the tax rate in basis points from 0 to 10000 (2000 = 20 %)."
    values["tax_rate_bps"] = rate
    if values["tax_treatment"] != TaxTreatment.RATE and rate:
        errors["tax_rate_bps"] = "A tax rate applies only with the treatment “VAT at a rate”; set it to 0."
    if values["tax_treatment"] == TaxTreatment.REVERSE_CHARGE and not values["tax_id"]:
        errors["tax_id"] = "A reverse charge needs the customer's tax id (VAT number)."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        details = scoped(CustomerBillingDetails.objects.select_for_update(), scope).filter(
            customer_id=customer.pk).first()
        if details is None:
            details = CustomerBillingDetails(provider_id=scope.provider_id, customer_id=customer.pk, updated_at=now)
            before: dict[str, Any] = {}
        else:
            before = {f: getattr(details, f) for f in _DETAILS_FIELDS}
        for name, value in values.items():
            setattr(details, name, value)
        details.updated_at = now
        details.save()
        audit_record(scope=scope, action="customer_billing_details.update", target=details, before=before,
                     after=values, customer_id=customer.pk)
    return details
