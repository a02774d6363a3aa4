"""What every row copied from the pool shares: its tenant keys (provider, customer) and exact hashrate fields.

The pool is the source of truth; mining's tables are a faithful, idempotent copy written only by
`mining.services` (upserts on natural keys). Every row carries `provider`, and `customer` where it belongs to
one, and every tenant-leading index starts with `provider` so the schema can be distributed by provider.
Units are in the names: `_hs` is hashes per second, `_sats` satoshis, `_at` an aware datetime.
"""

from __future__ import annotations

from django.db import models

from tenants.models import Customer, Provider

HASHRATE = {"max_digits": 32, "decimal_places": 6}  # up to 10^26 H/s, exact to a micro-hash


class CustomerOwned(models.Model):
    """Rows copied from the pool for one account: owned by its provider and (once assigned) its customer.

    Both keys are denormalised from the account so every query filters by tenant without a join, and every
    index can lead with the tenant.
    """

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        abstract = True
