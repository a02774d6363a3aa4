"""The portal's copy of the pool: accounts, workers, hashrate series, rewards, watcher links, sync state, alerts.

The pool is the source of truth; these tables are a faithful, idempotent copy written only by
`mining.services` (upserts on natural keys). Every row carries `provider`, and `customer` where it belongs to
one, and every tenant-leading index starts with `provider` so the schema can be distributed by provider.
Units are in the names: `_hs` is hashes per second, `_sats` satoshis, `_at` an aware datetime.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

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


class PayoutDestination(models.TextChoices):
    MAIN_BALANCE = "main_balance", "WhiteBIT main balance"
    EXTERNAL_ADDRESS = "external_address", "External BTC address"


class MiningAccount(models.Model):
    """One account on the pool. `customer` is null while an upstream account is not yet assigned."""

    TENANT_CUSTOMER_FIELD = "customer"

    class SyncStatus(models.TextChoices):
        NEVER = "never", "Not synced yet"
        OK = "ok", "In step"
        RETRYING = "retrying", "Retrying (temporary upstream problem)"
        FAILED = "failed", "Needs attention"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="mining_accounts")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="mining_accounts"
    )
    name = models.CharField(max_length=255, help_text="The account's name on the pool; miners use it as user.")
    label = models.CharField(max_length=200, blank=True, help_text="Site or hardware batch, for people.")
    upstream_created_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True, help_text="Paused accounts are not synced.")

    # From miners/info.
    stratum_urls = models.JSONField(default=list, blank=True)
    pool_fee_percent = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    workers_online = models.PositiveIntegerField(default=0)
    workers_offline = models.PositiveIntegerField(default=0)
    workers_low = models.PositiveIntegerField(default=0)

    # The portal's record of the payout destination, and what the pool said at the last sync.
    payout_destination = models.CharField(max_length=32, choices=PayoutDestination.choices, blank=True)
    payout_address = models.CharField(max_length=100, blank=True)
    upstream_payout_destination = models.CharField(max_length=32, choices=PayoutDestination.choices, blank=True)
    upstream_payout_address = models.CharField(max_length=100, blank=True)
    payout_drift_detected_at = models.DateTimeField(null=True, blank=True)

    # Sync bookkeeping. The lease makes "one sync per account at a time" hold across workers and machines,
    # and frees itself when a worker dies (it is short and renewed per dataset, so it simply expires). The
    # status is the last recorded outcome; pages show `mining.selectors_sync.sync_health`, derived when read.
    sync_status = models.CharField(max_length=16, choices=SyncStatus.choices, default=SyncStatus.NEVER)
    sync_error = models.TextField(blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    sync_lease_token = models.CharField(max_length=64, blank=True)
    sync_lease_until = models.DateTimeField(null=True, blank=True)
    # The dataset a live sync is on (renewed with the lease): "Syncing: rewards", or where a dead one stopped.
    sync_step = models.CharField(max_length=32, blank=True)
    worker_hashrate_synced_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["provider", "name"], name="mining_account_unique_name")]
        indexes = [
            models.Index(fields=["provider", "customer"]),
            models.Index(fields=["provider", "is_active", "sync_status"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def payout_drift(self) -> bool:
        """The pool's payout destination differs from the portal's record (someone changed it elsewhere)."""
        if not self.payout_destination or not self.upstream_payout_destination:
            return False
        return (self.payout_destination, self.payout_address) != (
            self.upstream_payout_destination,
            self.upstream_payout_address,
        )


class AccountAssignment(models.Model):
    """Which customer held a mining account, from which UTC day. History is dated, never rewritten.

    Every synced row dated on a day belongs to the customer who held the account that day (the sync resolves it
    from these rows under the account's row lock), so moving an account leaves its past with the old customer
    and a statement can bill each day to its holder. `customer` empty is a period where nobody held it.
    """

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("MiningAccount", on_delete=models.CASCADE, related_name="assignments")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    valid_from = models.DateField(null=True, blank=True, help_text="First UTC day held; empty: since the start.")
    valid_to = models.DateField(null=True, blank=True, help_text="First UTC day no longer held; empty: current.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["account_id", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["account"], condition=Q(valid_to__isnull=True),
                                    name="account_assignment_one_current"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_to__isnull=True)
                | Q(valid_to__gt=models.F("valid_from")),
                name="account_assignment_positive_period",
            ),
        ]
        indexes = [models.Index(fields=["provider", "account", "valid_from"])]

    def __str__(self) -> str:
        holder = self.customer_id or "unassigned"
        return f"{self.account_id} → {holder} [{self.valid_from or '…'}, {self.valid_to or '…'})"

    def covers(self, day) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day < self.valid_to)


class Worker(CustomerOwned):
    class Status(models.TextChoices):
        ONLINE = "online", "Online"
        LOW = "low", "Low hashrate"
        ZERO = "zero", "Listed, 0 H/s"
        OFFLINE = "offline", "Offline"

    account = models.ForeignKey(MiningAccount, on_delete=models.CASCADE, related_name="workers")
    name = models.CharField(max_length=255)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ONLINE)
    first_seen_at = models.DateTimeField()
    last_seen_online_at = models.DateTimeField(null=True, blank=True)
    offline_since_at = models.DateTimeField(null=True, blank=True)
    current_hashrate_hs = models.DecimalField(**HASHRATE, null=True, blank=True)
    # Rollup written by the worker-hashrate sync: the mean of the worker's hourly points over the 24 hours up to
    # the account's newest point, so the workers table sorts by it without averaging 500 series per request.
    hashrate_24h_hs = models.DecimalField(**HASHRATE, null=True, blank=True)
    hashrate_24h_until_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="worker_unique_name")]
        indexes = [models.Index(fields=["provider", "account", "status"])]

    def __str__(self) -> str:
        return f"{self.account.name}.{self.name}"


class Interval(models.TextChoices):
    M5 = "5m", "5 minutes"
    H1 = "1h", "1 hour"
    D1 = "24h", "24 hours"


class AccountHashrateSample(CustomerOwned):
    """One point of an account's hashrate series. Natural key: (account, interval, at).

    The unique index (account, interval, at) is also what makes a 24-hour read an index range scan; retention
    (see docs/SYNC.md) keeps 5-minute points for 35 days, hourly for 400, daily for ever.
    """

    account = models.ForeignKey(MiningAccount, on_delete=models.CASCADE, related_name="hashrate_samples")
    interval = models.CharField(max_length=4, choices=Interval.choices)
    at = models.DateTimeField()
    hashrate_hs = models.DecimalField(**HASHRATE)
    reject_rate = models.DecimalField(max_digits=9, decimal_places=8, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "interval", "at"], name="account_sample_natural_key")
        ]
        indexes = [models.Index(fields=["provider", "interval", "at"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.interval} {self.at:%Y-%m-%d %H:%M} {self.hashrate_hs} H/s"


class WorkerHashrateSample(CustomerOwned):
    """One point of a worker's hashrate series. Natural key: (worker, interval, at)."""

    account = models.ForeignKey(MiningAccount, on_delete=models.CASCADE, related_name="+")
    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="hashrate_samples")
    interval = models.CharField(max_length=4, choices=Interval.choices)
    at = models.DateTimeField()
    hashrate_hs = models.DecimalField(**HASHRATE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["worker", "interval", "at"], name="worker_sample_natural_key")
        ]
        indexes = [models.Index(fields=["provider", "account", "interval", "at"])]

    def __str__(self) -> str:
        return f"{self.worker_id} {self.interval} {self.at:%Y-%m-%d %H:%M} {self.hashrate_hs} H/s"


class RewardStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCESSFUL = "successful", "Paid"
    CANCELED = "canceled", "Canceled"


class Reward(CustomerOwned):
    """A day's FPPS reward of one account. Natural key: (account, date). Amounts in satoshis, exactly."""

    account = models.ForeignKey(MiningAccount, on_delete=models.PROTECT, related_name="rewards")
    date = models.DateField(help_text="The reward's day (UTC), from the pool's `date`.")
    reward_at = models.DateTimeField(help_text="The pool's `date` timestamp, as given.")
    currency = models.CharField(max_length=10, default="BTC")
    total_reward_sats = models.BigIntegerField()
    reward_sats = models.BigIntegerField(help_text="Net of the pool fee.")
    fee_sats = models.BigIntegerField()
    fpps_rate = models.DecimalField(max_digits=40, decimal_places=24)
    hashrate_hs = models.DecimalField(**HASHRATE)
    status = models.CharField(max_length=12, choices=RewardStatus.choices)
    payout_destination = models.CharField(max_length=32, choices=PayoutDestination.choices, blank=True)
    payout_address = models.CharField(max_length=100, blank=True)
    payout_tx_hash = models.CharField(max_length=128, blank=True)
    payout_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["account", "date"], name="reward_natural_key"),
            models.CheckConstraint(
                condition=Q(total_reward_sats=models.F("reward_sats") + models.F("fee_sats")),
                name="reward_total_is_reward_plus_fee",
            ),
        ]
        indexes = [
            models.Index(fields=["provider", "customer", "date"]),
            models.Index(fields=["provider", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.date} {self.total_reward_sats} sats ({self.status})"


class RewardStatusChange(CustomerOwned):
    """The record of a reward's status moves (pending → successful, pending → canceled, refused regressions)."""

    reward = models.ForeignKey(Reward, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=12, choices=RewardStatus.choices)
    to_status = models.CharField(max_length=12, choices=RewardStatus.choices)
    applied = models.BooleanField(default=True, help_text="False when the pool reported a regression we refused.")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.reward_id}: {self.from_status} → {self.to_status}"


class WatcherLink(CustomerOwned):
    """A shareable read-only pool page. Natural key: (provider, upstream_id)."""

    accounts = models.ManyToManyField(MiningAccount, related_name="watcher_links")
    upstream_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    url = models.URLField(max_length=500)
    permissions = models.JSONField(default=list)
    live_until_at = models.DateTimeField(null=True, blank=True, help_text="Empty means it never expires.")
    upstream_created_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    is_active = models.BooleanField(default=True, help_text="Still listed by the pool.")
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-upstream_created_at"]
        constraints = [models.UniqueConstraint(fields=["provider", "upstream_id"], name="watcher_link_natural_key")]

    def __str__(self) -> str:
        return self.name


class SyncDataset(models.TextChoices):
    MINER_INFO = "miner_info", "Miner info"
    WORKERS = "workers", "Workers"
    HASHRATE_5M = "hashrate_5m", "Account hashrate (5 min)"
    HASHRATE_1H = "hashrate_1h", "Account hashrate (1 h)"
    HASHRATE_24H = "hashrate_24h", "Account hashrate (24 h)"
    WORKER_HASHRATE = "worker_hashrate", "Worker hashrate"
    REWARDS = "rewards", "Rewards"
    PAYOUT = "payout", "Payout destination"
    WATCHER_LINKS = "watcher_links", "Watcher links"


class SyncState(CustomerOwned):
    """Per account and dataset: how far we have read (watermark), and how the last attempt went.

    The watermark advances in the same transaction as the rows it covers, so a crash leaves it pointing at
    data we really have; each sync re-reads an overlap window before it, which makes a lost write harmless.
    """

    account = models.ForeignKey(MiningAccount, on_delete=models.CASCADE, related_name="sync_states")
    dataset = models.CharField(max_length=24, choices=SyncDataset.choices)
    watermark_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "dataset"], name="sync_state_natural_key")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.dataset}"


class AlertKind(models.TextChoices):
    HASHRATE_FLOOR = "hashrate_floor", "Hashrate under a floor"
    HASHRATE_DROP = "hashrate_drop", "Hashrate under its 24-hour mean"
    WORKER_OFFLINE = "worker_offline", "Worker offline"
    SYNC_STALE = "sync_stale", "Sync out of date"
    EMAIL_UNDELIVERED = "email_undelivered", "E-mail not delivered"  # always watched, not a rule (issue 17)


class AlertRule(models.Model):
    """What to watch, for one account, one customer's accounts, or (neither set) all of a provider's."""

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="alert_rules")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    account = models.ForeignKey(MiningAccount, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=24, choices=AlertKind.choices)
    floor_hs = models.DecimalField(**HASHRATE, null=True, blank=True, help_text="For hashrate_floor.")
    drop_bps = models.PositiveIntegerField(
        null=True, blank=True, help_text="For hashrate_drop: alert under this share of the 24 h mean (bps)."
    )
    duration_minutes = models.PositiveIntegerField(default=10, help_text="The sustain time: how long it must hold.")
    notify_customer = models.BooleanField(default=True)
    is_enabled = models.BooleanField(default=True)
    repeat_s = models.PositiveIntegerField(default=3600, help_text="Repeat an open incident this often; 0: never.")
    channels = models.ManyToManyField("mining.AlertChannel", blank=True, related_name="rules")

    class Meta:
        indexes = [models.Index(fields=["provider", "kind", "is_enabled"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.pk})"


class Alert(models.Model):
    """One occurrence of a watched condition. At most one open alert per condition (`condition_key`)."""

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="alerts")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    account = models.ForeignKey(MiningAccount, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    rule = models.ForeignKey(AlertRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts")
    incident = models.ForeignKey("mining.Incident", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="alerts")
    kind = models.CharField(max_length=24, choices=AlertKind.choices)
    condition_key = models.CharField(max_length=200)
    message = models.TextField()
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    notified_open_at = models.DateTimeField(null=True, blank=True)
    notified_resolve_at = models.DateTimeField(null=True, blank=True)
    # Staff take an open alert ("someone is on it"); it stays open until the condition clears.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "condition_key"],
                condition=Q(resolved_at__isnull=True),
                name="alert_one_open_per_condition",
            )
        ]
        indexes = [models.Index(fields=["provider", "resolved_at"])]

    def __str__(self) -> str:
        return self.message


# Labels (site / rack / batch tags on accounts and workers) live in their own module.
# Alert channels, incidents, deliveries and mutes (issue 20) too.
from mining.alert_models import AlertChannel, AlertDelivery, AlertMute, ChannelKind, Incident, TelegramBot  # noqa: E402, F401
from mining.labels_models import AccountLabel, Label, LabelKind, WorkerLabel  # noqa: E402, F401
from mining.payout_models import PayoutChange, PayoutChangeStatus, PayoutChangeToken  # noqa: E402, F401
