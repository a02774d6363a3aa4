"""Amounts as exact strings with their unit in the field name (`_sats`, `_hs`): never a float on the wire."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


@extend_schema_field({"type": "string", "pattern": "^-?[0-9]+$", "example": "52341"})
class SatsField(serializers.Field):
    """Integer satoshis as a decimal string: exact in every JSON parser, including JavaScript's."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        return str(int(value))


def exact_decimal(**kwargs) -> serializers.DecimalField:
    """A model decimal rendered as its exact string (DRF's coerce_to_string, no float on the way)."""
    kwargs.setdefault("read_only", True)
    kwargs.setdefault("max_digits", None)
    kwargs.setdefault("decimal_places", None)
    return serializers.DecimalField(coerce_to_string=True, **kwargs)
