"""The audit log in words: "Revenue share: 20 % → 25 %", "Customer: — → Carol Mining", "Contract created".

Why here and not in the log: entries keep the exact stored values (ids, basis points, satoshis) so they stay true
whatever is renamed later; only the page turns them into words, with the same unit filters every page uses.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

from billing.templatetags.billing_money import btc
from mining.selectors.accounts import mining_account_names
from portal.templatetags.capabilities import role_label
from portal.templatetags.units import hashrate
from tenants.selectors import customer_names

register = template.Library()

_FIELD_WORDS = {
    "revenue_share_bps": "Revenue share", "provider_share_bps": "Provider's share", "drop_bps": "Drop",
    "customer": "Customer", "account": "Account", "user": "User", "role": "Role", "status": "Status",
    "contact_emails": "Contact e-mails", "payout_hold_hours": "Payout hold",
    "customers_may_change_payout": "Customers may change payout", "floor_hs": "Floor",
    "sla_hashrate_hs": "SLA hashrate", "is_enabled": "Enabled", "notify_customer": "Tell the customer",
    "whitebit_api_key": "API key", "api_secret_ciphertext": "API secret", "effective_from": "From",
    "effective_to": "To", "expires_at": "Expires", "email": "E-mail", "kind": "Kind", "recipients": "Sent to",
}
_VERB_WORDS = {"create": "created", "update": "changed", "delete": "removed", "remove": "removed", "set": "set",
               "revoke": "revoked", "accept": "accepted", "close": "closed", "acknowledge": "acknowledged",
               "retry": "sent again", "send": "sent", "cancel": "cancelled", "end": "ended"}


def _field_words(field: str) -> str:
    if field in _FIELD_WORDS:
        return _FIELD_WORDS[field]
    for suffix in ("_bps", "_sats", "_hs", "_id", "_at"):
        if field.endswith(suffix):
            field = field[: -len(suffix)]
    return field.replace("_", " ").capitalize()


def _value_words(field: str, value: Any, names: dict) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    try:
        if field.endswith("_bps"):
            return f"{Decimal(value) / 100:g} %"
        if field.endswith("_sats"):
            return btc(int(value))
        if field.endswith("_hs"):
            return hashrate(Decimal(value))
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    if field == "role":
        return role_label(value)
    if field == "payout_hold_hours":
        return f"{value} h"
    if field in names and value in names[field]:
        return names[field][value]
    if isinstance(value, int) and field in ("customer", "account", "user"):
        return f"#{value}"
    return str(value)


def _names(entries) -> dict[str, dict[int, str]]:
    """Names for the ids the page's entries mention (one query per kind, inside the entries' own provider)."""
    from django.contrib.auth import get_user_model


    wanted: dict[str, set[int]] = {"customer": set(), "account": set(), "user": set()}
    provider_ids = set()
    for entry in entries:
        provider_ids.add(entry.provider_id)
        for field, pair in (entry.changes or {}).items():
            if field in wanted:
                wanted[field].update(v for v in pair if isinstance(v, int))
    names: dict[str, dict[int, str]] = {}
    if wanted["customer"]:
        names["customer"] = customer_names(customer_ids=wanted["customer"], provider_ids=provider_ids)
    if wanted["account"]:
        names["account"] = mining_account_names(account_ids=wanted["account"], provider_ids=provider_ids)
    if wanted["user"]:
        names["user"] = dict(get_user_model().objects.filter(pk__in=wanted["user"]).values_list("pk", "email"))
    return names


@register.simple_tag
def audit_change_lines(entry, page) -> list[dict]:
    """[{"field": "Revenue share", "before": "20 %", "after": "25 %"}, …] for one entry of the page."""
    cache = getattr(page, "_audit_names", None)
    if cache is None:
        cache = _names(list(page))
        try:
            page._audit_names = cache
        except AttributeError:
            pass
    return [{"field": _field_words(f), "before": _value_words(f, pair[0], cache),
             "after": _value_words(f, pair[1], cache)}
            for f, pair in (entry.changes or {}).items() if isinstance(pair, list | tuple) and len(pair) == 2]


@register.filter
def audit_action_words(action: str) -> str:
    """"contract.version_create" → "Contract version created"."""
    entity, _, verb = (action or "").partition(".")
    parts = verb.split("_")
    last = _VERB_WORDS.get(parts[-1]) if parts else None
    if last:
        words = " ".join([entity.replace("_", " "), *parts[:-1], last])
    else:
        words = " ".join([entity.replace("_", " "), verb.replace("_", " ")])
    return words.strip().capitalize()
