from __future__ import annotations

from rest_framework import serializers

from tenants.models import Customer, slug_validator


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "slug", "status", "contact_emails", "created_at"]
        read_only_fields = fields


class CustomerCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.CharField(max_length=50, validators=[slug_validator],
                                 help_text="Lowercase letters, digits and hyphens; unique per provider.")
    contact_emails = serializers.ListField(child=serializers.EmailField(), required=False, max_length=20)
