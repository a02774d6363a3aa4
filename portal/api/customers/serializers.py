from __future__ import annotations

from rest_framework import serializers

from tenants.models import Customer, slug_validator


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "slug", "status", "contact_emails", "created_at"]
        read_only_fields = fields


class _LowercaseSlugField(serializers.CharField):
    """Lower-cased before it is checked, as the console does, so "ACME" is the slug "acme" everywhere."""

    def to_internal_value(self, data):
        return super().to_internal_value(data).lower()


class CustomerCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = _LowercaseSlugField(max_length=50, validators=[slug_validator],
                               help_text="Letters, digits and hyphens (stored lower-cased); unique per provider.")
    contact_emails = serializers.ListField(child=serializers.EmailField(), required=False, max_length=20)
