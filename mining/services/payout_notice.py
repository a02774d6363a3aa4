"""The e-mail that tells a provider's staff and the customer's contacts that a payout destination changed.

Why: a changed payout address is where stolen rewards would go, so everyone who could notice a change they did
not make hears about it at once. Queued through the outbox in the caller's transaction (docs/EMAIL.md): the
change and its notice commit together or not at all.
"""

from __future__ import annotations

from datetime import UTC

from mining.models import MiningAccount, PayoutDestination
from tenants.access import Scope, scope_for_system, scoped
from tenants.email import email_enqueue
from tenants.models import AuditEntry, Customer, ProviderMembership, StaffRole


def _where(destination: str, address: str) -> str:
    if destination == PayoutDestination.EXTERNAL_ADDRESS:
        return f"the Bitcoin address {address}"
    return str(PayoutDestination(destination).label) if destination else "not set"


def payout_change_notify(*, scope: Scope, account: MiningAccount, before: dict, entry: AuditEntry) -> int:
    """Queue the notice of one change (the audit entry names it, so a retry queues nothing twice)."""
    system = scope_for_system(provider_id=scope.provider_id)
    staff = list(scoped(ProviderMembership, system).filter(role__in=[StaffRole.OWNER, StaffRole.ADMIN])
                 .exclude(user__email="").values_list("user__email", flat=True))
    customer = scoped(Customer, system).filter(pk=account.customer_id).first() if account.customer_id else None
    provider_name = " ".join(account.provider.name.split())
    subject = f"[{provider_name}] Payout destination changed: {account.name}"[:255]
    body = (
        f"The payout destination of the mining account {account.name}"
        f"{f' ({customer.name})' if customer else ''} was changed by {entry.actor_label} "
        f"at {entry.created_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC.\n\n"
        f"Before: {_where(before.get('payout_destination', ''), before.get('payout_address', ''))}\n"
        f"Now:    {_where(account.payout_destination, account.payout_address)}\n\n"
        "If you did not expect this change, tell your hosting provider at once: rewards are paid there from now on."
    )
    notice = {"subject": subject, "body": body, "dedupe_key": f"payout:{account.pk}:{entry.pk}"}
    queued = email_enqueue(provider_id=scope.provider_id, recipients=staff, **notice)
    if customer is not None:
        staff_lower = {a.lower() for a in staff}
        contacts = [a for a in customer.contact_emails or [] if isinstance(a, str) and a.lower() not in staff_lower]
        queued += email_enqueue(provider_id=scope.provider_id, customer_id=customer.pk, recipients=contacts, **notice)
    return len(queued)
