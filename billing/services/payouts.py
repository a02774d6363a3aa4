"""The end of a payout change's hold: send it to the pool, record the outcome, and date the contract's own-address
list, all in one service (mining/services/payouts.py explains the hold).

Why here, in billing: the statements decide whose rewards the provider holds by the contract's own-address list of
each day (`billing/statements.py` `_paid_to`). A change that reaches the pool must move that list the same day, or
statements keep counting the customer's own rewards as held by the provider. So the service that records "applied"
also writes the list, in the same transaction, dated from the day it was applied (a new contract version from that
day; the days before keep their list, and a closed month never changes).

Safe to run twice at once (the claim is a conditional UPDATE: the second run finds nothing to claim), and safe to
run again after a worker died mid-call (the lease expires; setting the same destination again is harmless upstream).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billing.models import Contract, ContractVersion
from mining.models.payouts import PayoutChange, PayoutChangeStatus
from mining.services.payouts import (
    payout_change_claim,
    payout_change_finish,
    payout_change_record_applied,
    payout_change_release,
)
from mining.services.upstream_writes import payout_destination_send
from mining.whitebit.errors import WhiteBitError
from tenants.access import Scope, scope_for_system, scoped
from tenants.audit import audit_record


class PayoutApplyRetry(Exception):
    """The pool could not be reached (or asked us to wait): the change is held again and the task retries."""

    def __init__(self, words: str):
        super().__init__(words)
        self.user_message = words


def contract_customer_address_add(*, scope: Scope, customer_id: int, address: str, day: date) -> str:
    """Add `address` to the customer's own addresses from `day` on (in the caller's transaction); what was done,
    in words ("" when the customer has no contract or the address is already listed).

    A version in force before `day` is split there (the earlier part keeps its list), and every later version gets
    the address too. Versions before `day` never change, so no closed statement does either.
    """
    contract = scoped(Contract, scope).select_for_update().filter(customer_id=customer_id).first()
    if contract is None:
        return ""
    changed = False
    versions = list(scoped(ContractVersion, scope).filter(contract=contract).order_by("effective_from"))
    for version in versions:
        if version.effective_until is not None and version.effective_until <= day:
            continue  # wholly before the day: its list stays as it was
        if address in (version.customer_addresses or []):
            continue
        addresses = sorted({*(version.customer_addresses or []), address})
        if version.effective_from >= day:
            before = {"customer_addresses": version.customer_addresses}
            version.customer_addresses = addresses
            version.save(update_fields=["customer_addresses"])
            audit_record(scope=scope, action="contract.customer_addresses_add", target=version, before=before,
                         after={"customer_addresses": addresses})
        else:
            split = ContractVersion.objects.get(pk=version.pk)
            version.effective_until, until = day, version.effective_until
            version.save(update_fields=["effective_until"])
            audit_record(scope=scope, action="contract.version_end", target=version,
                         before={"effective_until": until}, after={"effective_until": day})
            split.pk, split.effective_from, split.effective_until = None, day, until
            split.customer_addresses, split.created_at = addresses, timezone.now()
            split.save(force_insert=True)
            audit_record(scope=scope, action="contract.customer_addresses_add", target=split,
                         after={"effective_from": day, "customer_addresses": addresses})
        changed = True
    if not changed:
        return ""
    return f"The contract counts {address} as the customer's own address from {day:%Y-%m-%d} on."


def payout_change_apply(*, provider_id: int, change_id: int, now: datetime | None = None) -> str:
    """Send one due change to the pool and record how it ended; the final status, or "skipped" when there was
    nothing to claim (not due, canceled, done, or another worker has it). Raises `PayoutApplyRetry` on a transient
    pool error (the change is held again, still due)."""
    now = now or timezone.now()
    token, change = payout_change_claim(provider_id=provider_id, change_id=change_id, now=now)
    if change is None:
        return "skipped"
    scope = scope_for_system(provider_id=provider_id, actor="task:payout_change_apply")
    if change.account.customer_id != change.customer_id:
        return _failed(change, token, "The account was moved to another customer after the change was asked, so it "
                                      "was not sent. Nothing was changed; ask again if it is still wanted.", now)
    try:
        result = payout_destination_send(scope=scope, account=change.account, destination=change.destination,
                                         address=change.address)
    except WhiteBitError as exc:
        if exc.retryable:
            payout_change_release(change=change, token=token, reason=f"Retrying: {exc.user_message}")
            raise PayoutApplyRetry(exc.user_message) from exc
        return _failed(change, token, f"The pool refused it: {exc.user_message} Nothing was changed.", now)
    except ValidationError as exc:  # no credentials any more
        return _failed(change, token, " ".join(exc.messages) + " Nothing was changed.", now)

    with transaction.atomic():
        note = ""
        if change.customer_id and change.destination == "external_address" and change.customer_owns_address:
            note = contract_customer_address_add(scope=scope, customer_id=change.customer_id,
                                                 address=result.address or change.address,
                                                 day=now.astimezone(UTC).date())
        if not payout_change_record_applied(change=change, token=token, destination=result.destination,
                                            address=result.address or "", note=note, now=now):
            transaction.set_rollback(True)
            return "skipped"
    return PayoutChangeStatus.APPLIED


def _failed(change: PayoutChange, token: str, words: str, now: datetime) -> str:
    with transaction.atomic():
        payout_change_finish(change=change, token=token, status=PayoutChangeStatus.FAILED, outcome=words, now=now)
    return PayoutChangeStatus.FAILED
