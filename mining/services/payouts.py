"""Payout changes are guarded: asked with a fresh second factor, held, announced with cancel links, then applied.

Why: the pool has no undo, and a redirected payout is money gone. Whoever reaches a signed-in browser (a customer
admin's, a staff member's) or a write token must not be able to redirect a customer's bitcoin with one form. So a
change is (1) confirmed by a fresh second-factor code, or, for a customer admin without an authenticator, by a
single-use link e-mailed to their own address (30 minutes); (2) held for the provider's hold time
(`Provider.payout_hold_hours`, 0–72 h), while the provider's owners and admins, the customer's contacts and the
requester each hold a single-use cancel link and any admin of the customer or provider can cancel it on the payout
page; (3) sent to the pool by a task once the hold ends (billing/services/payouts.py `payout_change_apply`, which
also dates the contract's own-address list). A newer held change supersedes an older pending one. An API token
is the machine's credential: its change is held at once (there is no code to ask a machine for).

Every write here is a conditional UPDATE on the status (a cancel racing the apply task, a link clicked twice):
exactly one of them wins, and each leaves one audit entry.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from mining.bitcoin_address import BitcoinAddressInvalid, bitcoin_address_check
from mining.models import MiningAccount, PayoutDestination
from mining.models.payouts import (
    CANCELABLE_STATUSES,
    PENDING_STATUSES,
    PayoutChange,
    PayoutChangeStatus,
    PayoutChangeToken,
)
from mining.services.payout_notice import (
    payout_change_confirm_mail,
    payout_change_held_mail,
    payout_change_outcome_mail,
)
from tenants.access import (
    Capability,
    Scope,
    ScopeKind,
    UNSCOPED_across_all_tenants,
    get_in_scope,
    scope_for_system,
    scoped,
)
from tenants.audit import audit_record
from tenants.errors import NotAllowed, NotFound
from tenants.models import Provider
from tenants.services.two_factor import second_factor_verify, user_has_second_factor

Status = PayoutChangeStatus
CONFIRM_LINK_TTL = timedelta(minutes=30)
CUSTOMER_PAYOUT_REFUSED = "Your hosting provider sets the payout destination."
CODE_WORDS = "Enter the 6-digit code your authenticator app shows now (each code works once)."


def payout_target_clean(*, destination: str, address: str) -> tuple[str, str]:
    """(destination, address) checked field by field; the address's checksum is checked before anything is sent
    (the pool only matches a loose pattern, and a mistyped address would pay the rewards to nobody)."""
    errors: dict[str, str] = {}
    address = (address or "").strip()
    if destination not in PayoutDestination.values:
        errors["destination"] = "Choose main_balance or external_address."
    elif destination == PayoutDestination.EXTERNAL_ADDRESS:
        if not address:
            errors["address"] = "A Bitcoin address is required to pay out to an external address."
        elif len(address) > 100:
            errors["address"] = "That is not a valid Bitcoin address (at most 100 characters)."
        else:
            try:
                bitcoin_address_check(address)
            except BitcoinAddressInvalid as exc:
                errors["address"] = str(exc)
    if errors:
        raise ValidationError(errors)
    return destination, address if destination == PayoutDestination.EXTERNAL_ADDRESS else ""


def _requester_label(scope: Scope, user: Any) -> str:
    if scope.token_id is not None:
        return f"API {scope.actor_label}" if scope.actor_label else f"API token #{scope.token_id}"
    return (getattr(user, "email", "") or f"user #{scope.user_id}") if user is not None else "system"


def payout_change_request(
    *,
    scope: Scope,
    account_id: int,
    destination: str,
    address: str = "",
    code: str = "",
    customer_owns_address: bool = True,
    now: datetime | None = None,
) -> PayoutChange:
    """Ask to pay an account elsewhere. Nothing reaches the pool here: the change is held (or, for a customer admin
    without an authenticator, waits for the e-mailed link). A wrong or replayed code creates nothing.
    """
    now = now or timezone.now()
    scope.require(Capability.MANAGE_PAYOUT)
    account = get_in_scope(MiningAccount.objects.select_related("provider"), scope, pk=account_id)
    if scope.kind == ScopeKind.CUSTOMER and not account.provider.customers_may_change_payout:
        raise NotAllowed(CUSTOMER_PAYOUT_REFUSED)
    destination, address = payout_target_clean(destination=destination, address=address)
    if scope.kind == ScopeKind.CUSTOMER:
        customer_owns_address = True  # a customer's own request names its own address
    pending = scoped(PayoutChange, scope).filter(account_id=account.pk, status__in=PENDING_STATUSES).order_by(
        "-requested_at").first()
    same_as = (pending.destination, pending.address) if pending else (account.payout_destination,
                                                                      account.payout_address)
    if same_as == (destination, address):
        words = "A change to that destination is already pending." if pending else "It is already paid there."
        raise ValidationError({"destination": f"{words} Nothing was changed."})

    user = get_user_model().objects.filter(pk=scope.user_id).first() if scope.user_id else None
    if scope.token_id is not None:
        confirmed_by = PayoutChange.ConfirmedBy.TOKEN
    elif user is not None and user_has_second_factor(user):
        if not (code or "").strip():
            raise ValidationError({"code": CODE_WORDS})
        if second_factor_verify(user=user, code=code) is None:
            raise ValidationError({"code": "That code is not right, or was already used. " + CODE_WORDS})
        confirmed_by = PayoutChange.ConfirmedBy.CODE
    elif user is not None and scope.kind == ScopeKind.CUSTOMER and user.email:
        confirmed_by = PayoutChange.ConfirmedBy.EMAIL
    else:
        raise ValidationError({"code": "Set up an authenticator app first: a payout change needs a second factor."})

    return _change_create(scope, account, destination=destination, address=address,
                          customer_owns_address=customer_owns_address, user=user,
                          label=_requester_label(scope, user), confirmed_by=confirmed_by, now=now)


def payout_change_request_by_policy(*, scope: Scope, account_id: int, destination: str, address: str = "",
                                    label: str, now: datetime | None = None) -> PayoutChange | None:
    """A change the provider's collection policy asks for (an invoice long overdue, or settled again): no person
    and no second factor, so it is held and announced like every other change (the hold and its cancel links are
    the safeguard), and named for what asked. None when the account is already paid there."""
    now = now or timezone.now()
    scope.require(Capability.MANAGE_PAYOUT)
    account = get_in_scope(MiningAccount.objects.select_related("provider"), scope, pk=account_id)
    destination, address = payout_target_clean(destination=destination, address=address)
    pending = scoped(PayoutChange, scope).filter(account_id=account.pk, status__in=PENDING_STATUSES).order_by(
        "-requested_at").first()
    same_as = (pending.destination, pending.address) if pending else (account.payout_destination,
                                                                      account.payout_address)
    if same_as == (destination, address):
        return None
    return _change_create(scope, account, destination=destination, address=address, customer_owns_address=True,
                          user=None, label=label, confirmed_by=PayoutChange.ConfirmedBy.POLICY, now=now)


def _change_create(scope: Scope, account: MiningAccount, *, destination: str, address: str,
                   customer_owns_address: bool, user: Any, label: str, confirmed_by: str,
                   now: datetime) -> PayoutChange:
    with transaction.atomic():
        account = get_in_scope(MiningAccount.objects.select_for_update(of=("self",)).select_related("provider"),
                               scope, pk=account.pk)
        change = PayoutChange.objects.create(
            provider_id=scope.provider_id, customer_id=account.customer_id, account=account,
            destination=destination, address=address,
            customer_owns_address=customer_owns_address and destination == PayoutDestination.EXTERNAL_ADDRESS,
            before_destination=account.payout_destination, before_address=account.payout_address,
            requested_by=user if scope.token_id is None else None, requested_by_label=label[:254],
            requested_at=now)
        audit_record(scope=scope, action="payout_change.request", target=change,
                     after={"account": account.name, "destination": destination, "address": address,
                            "confirmed_by": confirmed_by})
        if confirmed_by == PayoutChange.ConfirmedBy.EMAIL:
            payout_change_confirm_mail(change=change, recipient=user.email, expires_at=now + CONFIRM_LINK_TTL,
                                       now=now)
        else:
            _hold(scope, change, confirmed_by=confirmed_by, now=now)
    return change


def _hold(scope: Scope, change: PayoutChange, *, confirmed_by: str, now: datetime) -> None:
    """Start the hold (in the caller's transaction, with the account row locked): supersede older pending changes,
    set the due time and tell everyone, each with a cancel link."""
    hours = scoped(Provider, scope_for_system(provider_id=change.provider_id)).values_list(
        "payout_hold_hours", flat=True).get()
    older = scoped(PayoutChange, scope_for_system(provider_id=change.provider_id)).filter(
        account_id=change.account_id, status__in=CANCELABLE_STATUSES).exclude(pk=change.pk)
    for old in older.select_for_update():
        was = old.status
        _finish(old, status=Status.CANCELED, by=change.requested_by_label, now=now,
                outcome=f"Superseded by a newer change requested by {change.requested_by_label} at "
                        f"{now:%Y-%m-%d %H:%M} UTC; it never reached the pool.")
        audit_record(scope=scope, action="payout_change.supersede", target=old,
                     before={"status": was}, after={"status": old.status, "superseded_by": change.pk})
    change.status, change.confirmed_by, change.confirmed_at = Status.HELD, confirmed_by, now
    change.due_at = now + timedelta(hours=hours)
    change.save(update_fields=["status", "confirmed_by", "confirmed_at", "due_at"])
    audit_record(scope=scope, action="payout_change.hold", target=change,
                 after={"status": "held", "due_at": change.due_at, "confirmed_by": confirmed_by})
    payout_change_held_mail(change=change, now=now)


def _finish(change: PayoutChange, *, status: str, by: str, outcome: str, now: datetime) -> None:
    change.status, change.finished_at, change.finished_by_label, change.outcome = status, now, by[:254], outcome
    change.lease_token, change.lease_until = "", None
    change.save(update_fields=["status", "finished_at", "finished_by_label", "outcome", "lease_token",
                               "lease_until"])
    payout_change_outcome_mail(change=change, now=now)


def _token_row(token: str, purpose: str) -> PayoutChangeToken:
    """The link's row, locked; 404 for a token that never existed (the same answer as a wrong one)."""
    if not token:
        raise NotFound("Not found")
    row = (UNSCOPED_across_all_tenants(PayoutChangeToken, reason="a link's token names its own tenant")
           .select_for_update().select_related("change__account", "change__provider")
           .filter(token_hash=PayoutChangeToken.hash_token(token), purpose=purpose).first())
    if row is None:
        raise NotFound("Not found")
    return row


def payout_change_for_link(*, token: str, purpose: str, now: datetime | None = None) -> tuple[PayoutChange, str]:
    """The change a link names and, when the link can no longer be used, why (in words); for the link's page."""
    now = now or timezone.now()
    with transaction.atomic():
        row = _token_row(token, purpose)
    return row.change, _link_refusal(row, now)


def _link_refusal(row: PayoutChangeToken, now: datetime) -> str:
    change = row.change
    if row.used_at is not None:
        return "This link was already used; it works once."
    if row.expires_at is not None and row.expires_at <= now:
        return "This link has expired (it was valid for 30 minutes). Ask for the change again."
    wanted = (Status.REQUESTED,) if row.purpose == PayoutChangeToken.Purpose.CONFIRM else CANCELABLE_STATUSES
    if change.status not in wanted:
        return f"This change is no longer waiting: it is {change.get_status_display().lower()}."
    return ""


def payout_change_confirm_by_link(*, token: str, now: datetime | None = None) -> PayoutChange:
    """The requester's e-mailed link (mailbox control is their second factor): the change starts its hold."""
    now = now or timezone.now()
    with transaction.atomic():
        row = _token_row(token, PayoutChangeToken.Purpose.CONFIRM)
        refusal = _link_refusal(row, now)
        if refusal:
            raise ValidationError(refusal)
        MiningAccount.objects.select_for_update().filter(pk=row.change.account_id).first()  # the account's lock
        change = PayoutChange.objects.select_for_update().select_related("account", "provider").get(pk=row.change_id)
        if change.status != Status.REQUESTED:
            raise ValidationError("This change is no longer waiting for confirmation.")
        row.used_at = now
        row.save(update_fields=["used_at"])
        scope = scope_for_system(provider_id=change.provider_id, customer_id=change.customer_id,
                                 actor=f"confirmation link e-mailed to {row.recipient}")
        _hold(scope, change, confirmed_by=PayoutChange.ConfirmedBy.EMAIL, now=now)
    return change


def _cancel(scope: Scope, change_id: int, by: str, now: datetime) -> PayoutChange:
    change = PayoutChange.objects.select_for_update().select_related("account", "provider").get(pk=change_id)
    if change.status not in CANCELABLE_STATUSES:
        raise ValidationError(f"This change can no longer be canceled: it is {change.get_status_display().lower()}.")
    before = change.status
    _finish(change, status=Status.CANCELED, by=by, now=now,
            outcome=f"Canceled by {by} at {now:%Y-%m-%d %H:%M} UTC; it never reached the pool.")
    audit_record(scope=scope, action="payout_change.cancel", target=change, before={"status": before},
                 after={"status": change.status})
    return change


def payout_change_cancel(*, scope: Scope, change_id: int, now: datetime | None = None) -> PayoutChange:
    """Any admin of the customer or of the provider (whoever may change payouts) cancels a pending change."""
    now = now or timezone.now()
    scope.require(Capability.MANAGE_PAYOUT)
    with transaction.atomic():
        change = get_in_scope(PayoutChange.objects.select_for_update(), scope, pk=change_id)  # 404 for others'
        who = get_user_model().objects.filter(pk=scope.user_id).values_list("email", flat=True).first() if (
            scope.user_id and scope.token_id is None) else _requester_label(scope, None)
        return _cancel(scope, change.pk, who or "system", now)


def payout_change_cancel_by_link(*, token: str, now: datetime | None = None) -> PayoutChange:
    """A recipient's cancel link: works once, and only while the change is still held."""
    now = now or timezone.now()
    with transaction.atomic():
        row = _token_row(token, PayoutChangeToken.Purpose.CANCEL)
        refusal = _link_refusal(row, now)
        if refusal:
            raise ValidationError(refusal)
        row.used_at = now
        row.save(update_fields=["used_at"])
        by = f"the cancel link e-mailed to {row.recipient}"
        scope = scope_for_system(provider_id=row.provider_id, customer_id=row.customer_id, actor=by)
        return _cancel(scope, row.change_id, by, now)


# --- the hold's end (the task's side; billing/services/payouts.py records the outcome) -----------------------------


def payout_changes_due(*, now: datetime | None = None) -> list[tuple[int, int]]:
    """(provider id, change id) of held changes whose hold ended, and of applying ones whose lease expired; expires
    confirmations nobody gave within 30 minutes. Ids only, each opened with its own scope by the task."""
    now = now or timezone.now()
    every = UNSCOPED_across_all_tenants(PayoutChange, reason="the payout sweep collects ids across tenants")
    for change in every.filter(status=Status.REQUESTED, requested_at__lte=now - CONFIRM_LINK_TTL).select_related(
            "account", "provider"):
        with transaction.atomic():
            if PayoutChange.objects.filter(pk=change.pk, status=Status.REQUESTED).update(status=Status.CANCELED):
                change.status = Status.CANCELED
                _finish(change, status=Status.CANCELED, by="system", now=now,
                        outcome="Not confirmed within 30 minutes; it never reached the pool.")
                audit_record(scope=scope_for_system(provider_id=change.provider_id, actor="task:payout_sweep"),
                             action="payout_change.expire", target=change, before={"status": "requested"},
                             after={"status": "canceled"})
    due = every.filter(Q(status=Status.HELD, due_at__lte=now) | Q(status=Status.APPLYING, lease_until__lt=now))
    return list(due.order_by("due_at").values_list("provider_id", "pk"))


def payout_change_claim(
    *, provider_id: int, change_id: int, now: datetime | None = None
) -> tuple[str, PayoutChange | None]:
    """Claim a due change with a conditional UPDATE (a second worker's UPDATE matches nothing); the lease token and
    the change, or ("", None) when it is not due, already taken, canceled or done."""
    now = now or timezone.now()
    token = secrets.token_hex(16)
    qs = scoped(PayoutChange, scope_for_system(provider_id=provider_id)).filter(pk=change_id)
    claimed = qs.filter(Q(status=Status.HELD, due_at__lte=now) | Q(status=Status.APPLYING, lease_until__lt=now)).update(
        status=Status.APPLYING, lease_token=token,
        lease_until=now + timedelta(seconds=settings.MINING_PAYOUT_LEASE_S), attempts=F("attempts") + 1)
    if not claimed:
        return "", None
    return token, qs.select_related("account", "provider").get()


def payout_change_release(*, change: PayoutChange, token: str, reason: str) -> bool:
    """A transient failure: back to held (still due), so the task's retry or the next sweep tries again."""
    return bool(PayoutChange.objects.filter(pk=change.pk, lease_token=token, status=Status.APPLYING).update(
        status=Status.HELD, lease_token="", lease_until=None, outcome=reason[:2000]))


def payout_change_finish(*, change: PayoutChange, token: str, status: str, outcome: str,
                         now: datetime) -> bool:
    """Record how it ended (in the caller's transaction), only while our lease holds; False when it was lost."""
    locked = PayoutChange.objects.select_for_update().filter(pk=change.pk, lease_token=token,
                                                             status=Status.APPLYING).first()
    if locked is None:
        return False
    locked.account, locked.provider = change.account, change.provider
    _finish(locked, status=status, by="task:payout_change_apply", outcome=outcome, now=now)
    audit_record(scope=scope_for_system(provider_id=change.provider_id, actor="task:payout_change_apply"),
                 action=f"payout_change.{status}", target=locked, before={"status": "applying"},
                 after={"status": status, "outcome": outcome})
    change.status, change.outcome, change.finished_at = locked.status, locked.outcome, locked.finished_at
    return True


def payout_change_record_applied(*, change: PayoutChange, token: str, destination: str, address: str,
                                 note: str, now: datetime) -> bool:
    """The pool took it: record it as both the portal's and the pool's value (no drift), audit it, tell everyone.
    In the caller's transaction; False (and nothing written) when our lease was lost meanwhile."""
    scope = scope_for_system(provider_id=change.provider_id, actor="task:payout_change_apply")
    if not PayoutChange.objects.select_for_update().filter(pk=change.pk, lease_token=token,
                                                           status=Status.APPLYING).exists():
        return False
    fields = ["payout_destination", "payout_address", "upstream_payout_destination", "upstream_payout_address",
              "payout_drift_detected_at"]
    account = MiningAccount.objects.select_for_update().get(pk=change.account_id, provider_id=change.provider_id)
    before = {f: getattr(account, f) for f in fields}
    account.payout_destination = account.upstream_payout_destination = destination
    account.payout_address = account.upstream_payout_address = address or ""
    account.payout_drift_detected_at = None
    account.save(update_fields=fields)
    audit_record(scope=scope, action="mining_account.payout_destination_set", target=account, before=before,
                 after={f: getattr(account, f) for f in fields}, customer_id=change.customer_id)
    outcome = f"Applied at {now:%Y-%m-%d %H:%M} UTC: the pool pays {change.where} from now on."
    payout_change_finish(change=change, token=token, status=Status.APPLIED, outcome=f"{outcome} {note}".strip(),
                         now=now)
    return True
