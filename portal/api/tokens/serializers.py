from __future__ import annotations

from rest_framework import serializers

from tenants.models import ApiToken, ApiTokenScope


class ApiTokenSerializer(serializers.ModelSerializer):
    """Never the token itself: only its public prefix (the plaintext is shown once, at creation)."""

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "scopes", "customer_id", "created_at", "expires_at", "revoked_at",
                  "last_used_at"]
        read_only_fields = fields


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ApiTokenScope.choices), min_length=1,
                                   max_length=3)
    customer_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    expires_in_days = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=3650)
