from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from mining.models import (
    AccountHashrateSample,
    MiningAccount,
    PayoutDestination,
    Reward,
    Worker,
    WorkerHashrateSample,
)
from mining.models.labels import Label
from mining.selectors.sync import SyncHealth, sync_health
from mining.selectors.workers import worker_state_counts_of
from portal.api.fields import SatsField, exact_decimal


class LabelSerializer(serializers.ModelSerializer):
    """A provider's tag on an account or worker (site, rack, hardware batch); read-only in the API."""

    class Meta:
        model = Label
        fields = ["id", "kind", "name"]
        read_only_fields = fields


def _payout_choice(**kwargs) -> serializers.ChoiceField:
    """Blank until the portal or a sync has learnt it."""
    return serializers.ChoiceField(choices=PayoutDestination.choices, allow_blank=True, read_only=True, **kwargs)


class WorkerStatesSerializer(serializers.Serializer):
    """The account's workers by state, by the portal's one definition (docs/SYNC.md "Worker state"); the same
    figures every page shows. `offline` includes `offline_unnamed`, the ones the pool counts but never named."""

    online = serializers.IntegerField()
    low = serializers.IntegerField()
    zero = serializers.IntegerField(help_text="Listed by the pool, 0 H/s in its newest hourly point.")
    offline = serializers.IntegerField()
    offline_unnamed = serializers.IntegerField()


class MiningAccountSerializer(serializers.ModelSerializer):
    """`sync_status` is the last outcome a sync recorded; `sync_state` is what the sync is doing now, derived at
    read time (a sync whose worker died, or a fleet with no live worker, never records anything)."""

    pool_fee_percent = exact_decimal(allow_null=True)
    sync_state = serializers.SerializerMethodField(help_text="in_step | syncing | retrying | stalled | failed | "
                                                   "never | paused, derived when read")
    sync_state_reason = serializers.SerializerMethodField(help_text="Why, in words.")
    workers_online = serializers.IntegerField(read_only=True, help_text="The pool's own count (a `zero` worker is "
                                              "one of them); `worker_states` tells them apart.")
    worker_states = serializers.SerializerMethodField()
    payout_destination = _payout_choice()
    upstream_payout_destination = _payout_choice()
    payout_drift = serializers.BooleanField(read_only=True)
    labels = LabelSerializer(many=True, read_only=True)

    class Meta:
        model = MiningAccount
        fields = [
            "id", "name", "label", "labels", "customer_id", "is_active", "upstream_created_at", "workers_online",
            "workers_offline", "workers_low", "worker_states", "pool_fee_percent", "payout_destination",
            "payout_address",
            "upstream_payout_destination", "upstream_payout_address", "payout_drift", "sync_status", "sync_error",
            "sync_state", "sync_state_reason", "last_synced_at", "created_at",
        ]
        read_only_fields = fields

    def _health(self, obj: MiningAccount) -> SyncHealth:
        now = self.context.setdefault("now", timezone.now())  # one instant for the whole page
        return sync_health(obj, now=now)

    def get_sync_state(self, obj: MiningAccount) -> str:
        return self._health(obj).code

    def get_sync_state_reason(self, obj: MiningAccount) -> str:
        return self._health(obj).reason

    @extend_schema_field(WorkerStatesSerializer)
    def get_worker_states(self, account: MiningAccount) -> dict:
        return worker_state_counts_of(account).as_dict()


class MiningAccountCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255, help_text="The account's name on the pool: letters, digits, _.")
    customer_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    label = serializers.CharField(max_length=200, required=False, allow_blank=True)


class PayoutChangeSerializer(serializers.Serializer):
    """A payout change waiting to reach the pool: held until `due_at`, cancelable until then (docs/SECURITY.md)."""

    id = serializers.IntegerField(read_only=True)
    destination = serializers.ChoiceField(choices=PayoutDestination.choices, read_only=True)
    address = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True, help_text="requested (waiting for the e-mailed confirmation), "
                                                             "held, or applying")
    requested_by = serializers.CharField(source="requested_by_label", read_only=True)
    requested_at = serializers.DateTimeField(read_only=True)
    due_at = serializers.DateTimeField(read_only=True, allow_null=True,
                                       help_text="When the hold ends and the task sends it to the pool.")


class PayoutDestinationSerializer(serializers.ModelSerializer):
    account_id = serializers.IntegerField(source="id", read_only=True)
    destination = _payout_choice(source="payout_destination")
    address = serializers.CharField(source="payout_address", read_only=True)
    upstream_destination = _payout_choice(source="upstream_payout_destination")
    upstream_address = serializers.CharField(source="upstream_payout_address", read_only=True)
    drift = serializers.BooleanField(source="payout_drift", read_only=True)
    pending_change = serializers.SerializerMethodField()

    class Meta:
        model = MiningAccount
        fields = ["account_id", "destination", "address", "upstream_destination", "upstream_address", "drift",
                  "payout_drift_detected_at", "pending_change"]
        read_only_fields = fields

    @extend_schema_field(PayoutChangeSerializer(allow_null=True))
    def get_pending_change(self, account: MiningAccount) -> dict | None:
        change = getattr(account, "pending_change", None)
        return PayoutChangeSerializer(change).data if change is not None else None


class PayoutDestinationSetSerializer(serializers.Serializer):
    destination = serializers.ChoiceField(choices=PayoutDestination.choices)
    address = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                    help_text="A mainnet Bitcoin address; required for external_address.")
    customer_owns_address = serializers.BooleanField(
        required=False, default=True,
        help_text="Staff: the external address is the customer's own (statements count its rewards as held by the "
                  "customer from the day it is applied). Ignored for a customer's own token.")
    code = serializers.CharField(max_length=32, required=False, allow_blank=True, write_only=True,
                                 help_text="Signed-in sessions only: a fresh code from the authenticator app.")


class WorkerSerializer(serializers.ModelSerializer):
    current_hashrate_hs = exact_decimal(allow_null=True)
    labels = LabelSerializer(many=True, read_only=True)

    class Meta:
        model = Worker
        fields = ["id", "account_id", "customer_id", "name", "status", "labels", "current_hashrate_hs", "first_seen_at",
                  "last_seen_online_at", "offline_since_at"]
        read_only_fields = fields


class AccountHashrateSerializer(serializers.ModelSerializer):
    hashrate_hs = exact_decimal()
    reject_rate = exact_decimal(allow_null=True)

    class Meta:
        model = AccountHashrateSample
        fields = ["at", "interval", "hashrate_hs", "reject_rate"]
        read_only_fields = fields


class WorkerHashrateSerializer(serializers.ModelSerializer):
    hashrate_hs = exact_decimal()

    class Meta:
        model = WorkerHashrateSample
        fields = ["at", "interval", "hashrate_hs"]
        read_only_fields = fields


class RewardSerializer(serializers.ModelSerializer):
    total_reward_sats = SatsField()
    reward_sats = SatsField(help_text="Net of the pool fee.")
    fee_sats = SatsField()
    fpps_rate = exact_decimal(help_text="BTC per PH/s per day.")
    hashrate_hs = exact_decimal()
    payout_destination = _payout_choice()

    class Meta:
        model = Reward
        fields = ["id", "account_id", "customer_id", "date", "currency", "total_reward_sats", "reward_sats",
                  "fee_sats", "fpps_rate", "hashrate_hs", "status", "payout_destination", "payout_address",
                  "payout_tx_hash", "payout_at"]
        read_only_fields = fields
