"""The three writes that go to the pool: create a mining account, create a watcher link, send a payout destination.

Each one calls the pool and records the result locally in the same step (DESIGN: nothing in a view calls the
pool except these). Each is safe to run again after an attempt whose outcome is unknown (`attempt`, see
tenants/idempotency.py): it first looks upstream for what that attempt may have created, so a retried request
never creates a second account or link. The pool's refusals become field errors in a provider's words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction

from mining.models import MiningAccount, WatcherLink
from mining.services.accounts import mining_account_assign
from mining.upstream import client_for_provider
from mining.whitebit.errors import ValidationFailed
from mining.whitebit.types import WATCHER_LIFETIMES, WATCHER_PERMISSIONS
from tenants.access import Capability, Scope, scoped
from tenants.audit import audit_record, audit_snapshot
from tenants.errors import UpstreamRefused
from tenants.idempotency import WriteAttempt
from tenants.models import Customer
from tenants.selectors import provider_get

NAME_RE = re.compile(r"^[a-zA-Z0-9_]{1,255}$")
NAME_WORDS = "Use 1–255 letters, digits and underscores."


def _refused(exc: ValidationFailed, field_map: dict[str, str], default_field: str) -> UpstreamRefused:
    """The pool's field errors, in words, under our field names (unknown fields go under `default_field`)."""
    errors: dict[str, list[str]] = {}
    words = exc.user_message
    for upstream_field in exc.field_errors or {"": []}:
        errors.setdefault(field_map.get(upstream_field, default_field), [])
    for field in errors:
        errors[field].append(words)
    return UpstreamRefused(errors)


def _client(scope: Scope, *, retries: bool = True):
    provider = provider_get(scope=scope)
    if not provider.whitebit_api_key or not provider.has_api_secret:
        raise ValidationError({"non_field_errors": [
            "This provider has no WhiteBIT API key and secret yet: an owner or admin sets them in the portal first."
        ]})
    client = client_for_provider(provider)
    if not retries:
        client.max_retries = 0
    return client


def mining_account_create(
    *,
    scope: Scope,
    name: str,
    customer_id: int | None = None,
    label: str = "",
    attempt: WriteAttempt | None = None,
) -> MiningAccount:
    """Create the account on the pool under the provider's key, then record it (assigned to the customer).

    Names are unique per pool key, so after a lost answer "name taken" means the earlier attempt landed.
    """
    scope.require(Capability.MANAGE_ACCOUNTS)
    outcome_unknown_since = attempt.outcome_unknown_since if attempt else None
    errors: dict[str, str] = {}
    if not NAME_RE.match(name or ""):
        errors["name"] = f"“{name}” is not a valid mining account name. {NAME_WORDS}"
    if len(label or "") > 200:
        errors["label"] = "The label may be at most 200 characters."
    customer = None
    if customer_id is not None:
        customer = scoped(Customer, scope).filter(pk=customer_id).first()
        if customer is None:
            errors["customer_id"] = "No such customer."
    if not errors and outcome_unknown_since is None and scoped(MiningAccount, scope).filter(name=name).exists():
        errors["name"] = "This provider already has a mining account with that name; choose another."
    if errors:
        raise ValidationError(errors)

    client = _client(scope)
    try:
        upstream = client.account_create(name=name)
    except ValidationFailed as exc:
        if not (outcome_unknown_since is not None and exc.is_name_taken):
            raise _refused(exc, {"name": "name", "referralCode": "name", "error": "name"}, "name") from exc
        # The earlier attempt with this key landed after all: the name is ours under this provider's key.
        found = [a for a in client.accounts_list(name=name).accounts if a.name == name]
        if not found:
            raise _refused(exc, {"name": "name"}, "name") from exc
        upstream = found[0]

    with transaction.atomic():
        account, created = MiningAccount.objects.select_for_update().get_or_create(
            provider_id=scope.provider_id, name=upstream.name,
            defaults={"upstream_created_at": upstream.created_at, "label": label or ""},
        )
        if not created and label and not account.label:
            account.label = label
            account.save(update_fields=["label"])
        audit_record(scope=scope, action="mining_account.create", target=account,
                     after=audit_snapshot(account, ["name", "label", "customer"]))
        if customer is not None and account.customer_id is None:
            # Through the one assignment service, not by setting `customer`: the sync gives each row the customer
            # of a dated assignment, so an account without one would sync every row to nobody. (A sync that
            # imported it between a lost attempt and this retry left it unassigned: it goes to the customer asked.)
            account = mining_account_assign(scope=scope, account_id=account.pk, customer_id=customer.pk)
    return account


def watcher_link_create(
    *,
    scope: Scope,
    account_ids: Sequence[int],
    name: str,
    permissions: Sequence[str],
    live_until: str,
    attempt: WriteAttempt | None = None,
) -> WatcherLink:
    """Create a read-only pool link for accounts of one customer, and record it.

    The pool call is sent once (no automatic resend): a resent create whose first copy was only slow would
    make a second link. Before sending, the links the account already has are noted on the attempt; a retry
    after a lost answer adopts a matching link that is not among them instead of creating another.
    """
    attempt = attempt or WriteAttempt()
    scope.require(Capability.MANAGE_WATCHER_LINKS)
    errors: dict[str, str] = {}
    ids = list(dict.fromkeys(account_ids or []))
    accounts = list(scoped(MiningAccount, scope).filter(pk__in=ids).order_by("name")) if ids else []
    if not ids:
        errors["account_ids"] = "Name at least one mining account."
    elif len(accounts) != len(ids):
        errors["account_ids"] = "No such mining account: " + ", ".join(
            str(i) for i in ids if i not in {a.pk for a in accounts}) + "."
    elif len({a.customer_id for a in accounts}) > 1:
        errors["account_ids"] = "A link may only show accounts of one customer."
    if not NAME_RE.match(name or ""):
        errors["name"] = f"“{name}” is not a valid link name. {NAME_WORDS}"
    perms = list(permissions or [])
    if not perms or len(set(perms)) != len(perms) or not set(perms) <= set(WATCHER_PERMISSIONS):
        errors["permissions"] = "Give 1–3 distinct permissions from: " + ", ".join(WATCHER_PERMISSIONS) + "."
    if live_until not in WATCHER_LIFETIMES:
        errors["live_until"] = "Choose one of: " + ", ".join(WATCHER_LIFETIMES) + "."
    if errors:
        raise ValidationError(errors)

    names = [a.name for a in accounts]
    client = _client(scope, retries=False)
    link = None
    if attempt.outcome_unknown_since is not None and "links_before" in attempt.recovery:
        known = set(attempt.recovery["links_before"])
        for candidate in client.watcher_links_list(account=names[0]):  # newest first
            if (candidate.id not in known and candidate.name == name and set(candidate.accounts) == set(names)
                    and set(candidate.permissions) == set(perms)):
                link = candidate
                break
    if link is None:
        attempt.remember(links_before=[x.id for x in client.watcher_links_list(account=names[0])])
        try:
            link = client.watcher_link_create(accounts=names, name=name, permissions=perms, live_until=live_until)
        except ValidationFailed as exc:
            raise _refused(exc, {"name": "name", "permissions": "permissions", "liveUntil": "live_until",
                                 "accounts": "account_ids", "user": "account_ids"}, "account_ids") from exc

    with transaction.atomic():
        obj, _ = WatcherLink.objects.update_or_create(
            provider_id=scope.provider_id, upstream_id=link.id,
            defaults={
                "customer_id": accounts[0].customer_id, "name": link.name, "url": link.link,
                "permissions": list(link.permissions), "live_until_at": link.live_until_at,
                "upstream_created_at": link.created_at, "is_active": True, "created_by_id": scope.user_id,
            },
        )
        obj.accounts.add(*accounts)
        audit_record(scope=scope, action="watcher_link.create", target=obj,
                     after={"name": obj.name, "accounts": names, "permissions": obj.permissions,
                            "live_until_at": obj.live_until_at})
    return obj


def payout_destination_send(*, scope: Scope, account: MiningAccount, destination: str, address: str):
    """Send a held change's destination to the pool (only `payout_change_apply` calls this, once the hold ended).

    Setting the same destination again is harmless upstream, so a change re-sent after a lost answer needs no
    look-up first. Raises the client's errors (`retryable` says whether waiting can help).
    """
    return _client(scope).payout_destination_set(account=account.name, destination=destination,
                                                  address=address or None)
