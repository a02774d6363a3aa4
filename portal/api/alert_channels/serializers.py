"""Alert channels and rules over the API (issue 20). Secrets are write-only: a channel's URL is never returned,
the webhook's `whsec_` secret and Telegram's code only in the answer to the create."""

from __future__ import annotations

from rest_framework import serializers

from mining.models import AlertChannel, AlertKind, AlertRule, ChannelKind


class AlertChannelSerializer(serializers.ModelSerializer):
    class Meta:
        model = AlertChannel
        fields = ["id", "kind", "name", "customer_id", "target_hint", "emails", "kinds", "timezone", "status",
                  "paused_reason", "created_at"]
        read_only_fields = fields


class AlertChannelCreatedSerializer(AlertChannelSerializer):
    secret = serializers.CharField(help_text="Signed webhooks: the whsec_ secret, returned this once.")
    bind_code = serializers.CharField(help_text="Telegram: send `/start <code>` to the bot within the hour.")

    class Meta(AlertChannelSerializer.Meta):
        fields = [*AlertChannelSerializer.Meta.fields, "secret", "bind_code"]
        read_only_fields = fields


class AlertChannelCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    name = serializers.CharField(max_length=80)
    customer_id = serializers.IntegerField(required=False, allow_null=True,
                                           help_text="Staff: a customer's own channel; empty: a provider channel.")
    url = serializers.CharField(required=False, allow_blank=True, write_only=True,
                                help_text="Slack / Teams / Discord / webhook: the address to post to (write-only).")
    emails = serializers.ListField(child=serializers.CharField(), required=False)
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=AlertKind.choices), required=False)
    timezone = serializers.CharField(required=False, allow_blank=True, max_length=64)


class AlertDeliverySerializer(serializers.Serializer):
    delivery_id = serializers.IntegerField()


class AlertRuleSerializer(serializers.ModelSerializer):
    sustain_s = serializers.SerializerMethodField(help_text="How long the condition must hold before it fires.")
    threshold = serializers.SerializerMethodField(
        help_text="hashrate_floor: H/s (exact string); hashrate_drop: bps of the 24-hour mean; else null.")
    channels = serializers.SerializerMethodField()

    class Meta:
        model = AlertRule
        fields = ["id", "kind", "customer_id", "account_id", "threshold", "sustain_s", "repeat_s", "channels",
                  "notify_customer", "is_enabled"]
        read_only_fields = fields

    def get_sustain_s(self, obj) -> int:
        return obj.duration_minutes * 60

    def get_threshold(self, obj) -> str | None:
        if obj.kind == AlertKind.HASHRATE_FLOOR and obj.floor_hs is not None:
            return str(obj.floor_hs)
        if obj.kind == AlertKind.HASHRATE_DROP and obj.drop_bps is not None:
            return str(obj.drop_bps)
        return None

    def get_channels(self, obj) -> list[int]:
        return sorted(c.pk for c in obj.channels.all())


class AlertRuleWriteSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[c for c in AlertKind.choices if c[0] != AlertKind.EMAIL_UNDELIVERED],
                                   required=False)
    customer_id = serializers.IntegerField(required=False, allow_null=True)
    account_id = serializers.IntegerField(required=False, allow_null=True)
    threshold = serializers.DecimalField(max_digits=32, decimal_places=6, required=False, allow_null=True,
                                         coerce_to_string=True)
    sustain_s = serializers.IntegerField(required=False, min_value=60, max_value=86400,
                                         help_text="A multiple of 60.")
    repeat_s = serializers.IntegerField(required=False, min_value=0)
    channels = serializers.ListField(child=serializers.IntegerField(), required=False)
    notify_customer = serializers.BooleanField(required=False)
    is_enabled = serializers.BooleanField(required=False)

    def validate_sustain_s(self, value: int) -> int:
        if value % 60:
            raise serializers.ValidationError("Give whole minutes (a multiple of 60).")
        return value
