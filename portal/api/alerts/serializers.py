from __future__ import annotations

from rest_framework import serializers

from mining.models import Alert


class AlertSerializer(serializers.ModelSerializer):
    is_open = serializers.SerializerMethodField()

    class Meta:
        model = Alert
        fields = ["id", "kind", "message", "customer_id", "account_id", "worker_id", "opened_at", "resolved_at",
                  "is_open"]
        read_only_fields = fields

    def get_is_open(self, obj) -> bool:
        return obj.resolved_at is None
