"""A provider on its own sandbox pool (its own key, so nonces may follow a moved clock), with a customer, its
admins and viewer, and the provider's staff; the clock is fixed with time_machine and moved by the tests."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core import mail

from billing.tasks import payout_change_apply_task
from mining.models import MiningAccount
from mining.services.payouts import payout_changes_due
from tenants import services
from tenants.email import email_send
from tenants.models import CustomerRole, OutboundEmail, StaffRole
from tests.fixtures.access import totp_code, totp_device_for
from tests.fixtures.mining import pool_provider_make
from tests.fixtures.sandbox import sandbox_config, start_sandbox

START = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
PASSWORD = "held-payout-password-1"
GOOD = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
OTHER = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
TYPO = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdp"
EDIT = "/api/v4/mining/payout-destination/edit"
LINK = re.compile(r"http://[^\s]+/account/payout-change/(confirm|cancel)/([^/\s]+)/")


@dataclass
class PayWorld:
    pp: object
    pool: object
    account: MiningAccount
    users: dict
    clock: object

    @property
    def base(self) -> str:
        return f"/c/{self.pp.provider.slug}/miner-co/payout/"

    @property
    def staff_base(self) -> str:
        return f"/p/{self.pp.provider.slug}/accounts/{self.account.pk}/payout/"

    def upstream(self) -> dict:
        return self.pool.post("/api/v4/mining/payout-destination", {"accountName": self.account.name}).json()

    def edits(self) -> int:
        return self.pool.stats()["by_endpoint"].get(EDIT, {}).get("total", 0)

    def code(self, user) -> str:
        return totp_code(totp_device_for(user), at=time.time())


def pool_start():
    return start_sandbox(sandbox_config(now=None, api_key=f"pay-{uuid.uuid4().hex[:12]}", accounts=2, workers=1,
                                        history_days=2))


def pool_stop(pool) -> None:
    pool.session.close()
    pool.server.stop()


def world_make(pool, clock) -> PayWorld:
    pp = pool_provider_make(pool)
    users = {}
    for email, role, authenticator in (("admin@miner.example", CustomerRole.ADMIN, True),
                                       ("noapp@miner.example", CustomerRole.ADMIN, False),
                                       ("viewer@miner.example", CustomerRole.VIEWER, False)):
        user = services.user_get_or_create(email=email, password=PASSWORD)
        services.customer_membership_grant(customer=pp.customer, user=user, role=role)
        if authenticator:
            totp_device_for(user)
        users[email.split("@")[0]] = user
    for email, role in (("owner@pool.example", StaffRole.OWNER), ("staffadmin@pool.example", StaffRole.ADMIN),
                        ("operator@pool.example", StaffRole.OPERATOR)):
        user = services.user_get_or_create(email=email, password=PASSWORD)
        services.provider_membership_grant(provider=pp.provider, user=user, role=role)
        totp_device_for(user)
        users[email.split("@")[0]] = user
    pp.provider.customers_may_change_payout = True
    pp.provider.save(update_fields=["customers_may_change_payout"])
    return PayWorld(pp, pool, pp.accounts[0], users, clock)


def sweep() -> list[str]:
    """What beat's sweep does, with each per-change task run here (no global eager mode: `.apply()` runs one)."""
    return [payout_change_apply_task.apply(args=[p, c]).get() for p, c in payout_changes_due()]


def deliver() -> None:
    """Send every queued outbox row through the real send path into Django's locmem outbox."""
    for pk in OutboundEmail.objects.filter(status=OutboundEmail.Status.QUEUED).values_list("pk", flat=True):
        email_send(email_id=pk)


def links_in_mail(to: str, kind: str) -> list[str]:
    """The /account/payout-change/<kind>/<token>/ paths in the messages sent to `to`."""
    return [f"/account/payout-change/{k}/{t}/" for m in mail.outbox if to in m.to
            for k, t in LINK.findall(m.body) if k == kind]
