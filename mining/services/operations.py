"""Staff operations from the console: ask for a sync now, acknowledge an alert. Each is audited."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from mining.models import Alert, MiningAccount
from mining.tasks import mining_accounts_import_task, sync_account
from tenants.access import Capability, Scope, get_in_scope
from tenants.audit import audit_record


def mining_account_sync_request(*, scope: Scope, account_id: int) -> MiningAccount:
    """Queue one sync of the account after the commit. A paused account is refused: its copy is paused on purpose.

    Queuing twice is harmless: the second run finds the lease held or the data unchanged.
    """
    scope.require(Capability.MANAGE_ACCOUNTS)
    with transaction.atomic():
        account = get_in_scope(MiningAccount, scope, pk=account_id)
        if not account.is_active:
            raise ValidationError({"account": "This account is paused; it is not copied from the pool."})
        audit_record(scope=scope, action="mining_account.sync_request", target=account,
                     after={"sync_status": account.sync_status})
        provider_id, pk = account.provider_id, account.pk
        transaction.on_commit(lambda: sync_account.delay(provider_id, pk))
    return account


def alert_acknowledge(*, scope: Scope, alert_id: int, now: datetime) -> Alert:
    """Mark an open alert as taken by the caller. Acknowledging twice keeps the first person and time."""
    scope.require(Capability.MANAGE_ACCOUNTS)
    with transaction.atomic():
        alert = get_in_scope(Alert.objects.select_for_update(), scope, pk=alert_id)
        if alert.resolved_at is not None:
            raise ValidationError({"alert": "This alert has already cleared."})
        if alert.acknowledged_at is not None:
            return alert
        alert.acknowledged_at = now
        alert.acknowledged_by_id = scope.user_id
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
        audit_record(scope=scope, action="alert.acknowledge", target=alert,
                     before={"acknowledged_at": None}, after={"acknowledged_at": now})
    return alert


def mining_accounts_import_request(*, scope: Scope) -> None:
    """Queue a read of the pool's account list after the commit (the page never waits on the pool)."""
    scope.require(Capability.MANAGE_ACCOUNTS)
    with transaction.atomic():
        audit_record(scope=scope, action="mining_account.import_request", object_type="mining.miningaccount",
                     object_repr="import of the pool's accounts asked for")
        provider_id = scope.provider_id
        transaction.on_commit(lambda: mining_accounts_import_task.delay(provider_id))

