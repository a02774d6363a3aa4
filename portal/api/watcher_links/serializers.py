from __future__ import annotations

from rest_framework import serializers

from mining.models import WatcherLink


class WatcherLinkSerializer(serializers.ModelSerializer):
    account_ids = serializers.SerializerMethodField()

    class Meta:
        model = WatcherLink
        fields = ["id", "name", "url", "permissions", "account_ids", "customer_id", "live_until_at",
                  "upstream_created_at", "is_active"]
        read_only_fields = fields

    def get_account_ids(self, obj) -> list[int]:
        return [a.pk for a in obj.accounts.all()]


class WatcherLinkCreateSerializer(serializers.Serializer):
    account_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=50)
    name = serializers.CharField(max_length=255)
    permissions = serializers.ListField(
        child=serializers.ChoiceField(choices=["dashboard", "rewards", "workers"]), min_length=1, max_length=3
    )
    live_until = serializers.ChoiceField(choices=["1h", "24h", "7d", "always"])
