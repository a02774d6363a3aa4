"""The stratum hand-over sent to the customer: what to type into each miner, e-mailed to the customer's contacts
through the outbox, in the provider's brand.

Why a dedupe key made of the text: a double click (or a second click a minute later) queues nothing new, since the
same message to the same address is already in the outbox; when the pool's details change, the text changes and
sending again is a new message. One audit entry per send that queued anything.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.db import transaction

from mining.models import MiningAccount
from tenants.access import Capability, Scope, get_in_scope
from tenants.audit import audit_record
from tenants.brand import brand_for_provider_id
from tenants.email import email_enqueue


def handover_worker_example(account: MiningAccount) -> str:
    return f"{account.name}.rack01_s19"


def handover_urls(account: MiningAccount) -> list[str]:
    return [s.get("url", "") for s in account.stratum_urls if s.get("url")]


def handover_text(account: MiningAccount) -> str:
    """The hand-over as plain text, to paste into an e-mail or ticket (and the body of the one we send)."""
    urls, worker_example = handover_urls(account), handover_worker_example(account)
    lines = [f"Connecting your miners to the WhiteBIT mining pool (account {account.name})", ""]
    if urls:
        lines += ["Pool URL" + ("s (use the first; the others are alternatives):" if len(urls) > 1 else ":")]
        lines += [f"  {u}" for u in urls]
    else:
        lines += ["Pool URL: will be sent separately (the pool has not listed it yet)."]
    lines += ["", f"Worker (user): {account.name}.<worker name>, for example {worker_example}",
              "Password: x"]
    return "\n".join(lines)


def mining_account_handover_send(*, scope: Scope, account_id: int) -> list[str]:
    """E-mail the account's connection details to its customer's contact addresses; returns the addresses a
    message was queued for now (empty when each already had this very message)."""
    scope.require(Capability.MANAGE_ACCOUNTS)
    with transaction.atomic():
        account = get_in_scope(MiningAccount.objects.select_related("customer"), scope, pk=account_id)
        customer = account.customer
        if customer is None:
            raise ValidationError("This account is not assigned to a customer yet; assign it first.")
        recipients = list(customer.contact_emails or [])
        if not recipients:
            raise ValidationError(f"{customer.name} has no contact e-mail address; add one on the customer's page.")
        if not handover_urls(account):
            raise ValidationError("The pool has not listed this account's pool URL yet; ask the pool again first.")
        brand = brand_for_provider_id(account.provider_id)
        text = handover_text(account)
        support = ", ".join(x for x in (brand.support_email, brand.support_phone, brand.support_url) if x)
        body = (f"Hello {customer.name},\n\n{text}\n\n"
                + (f"Questions? {brand.name}: {support}\n" if support else f"Questions? Reply to {brand.name}.\n"))
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        ids = email_enqueue(provider_id=account.provider_id, customer_id=customer.pk, recipients=recipients,
                            subject=f"{brand.name}: connecting your miners (account {account.name})", body=body,
                            dedupe_key=f"handover:{account.pk}:{digest}")
        if not ids:
            return []
        from tenants.models import OutboundEmail

        sent_to = list(OutboundEmail.objects.filter(pk__in=ids).values_list("recipient", flat=True))
        audit_record(scope=scope, action="mining_account.handover_send", target=account,
                     after={"recipients": sent_to})
    return sent_to
