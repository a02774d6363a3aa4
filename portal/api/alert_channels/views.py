"""`/api/v1/alert-channels/` and `/api/v1/alert-rules/` (issue 20): thin views over the alert services."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.response import Response

from mining.models import AlertChannel, AlertKind, AlertRule
from mining.selectors import incidents as selectors_alerts
from mining.services.alert_channels import alert_channel_create, alert_channel_delete, alert_channel_test
from mining.services.alert_rules import alert_rule_create, alert_rule_update
from portal.api.alert_channels.serializers import (
    AlertChannelCreatedSerializer,
    AlertChannelCreateSerializer,
    AlertChannelSerializer,
    AlertDeliverySerializer,
    AlertRuleSerializer,
    AlertRuleWriteSerializer,
)
from portal.api.base import ScopedViewSet


class AlertChannelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Where alerts go: provider channels (staff) and customers' own. Secrets never come back."""

    model = AlertChannel
    ordering = ("-id",)
    serializer_class = AlertChannelSerializer

    def scoped_queryset(self):
        return selectors_alerts.alert_channel_list(scope=self.scope)

    @extend_schema(request=AlertChannelCreateSerializer, responses={201: AlertChannelCreatedSerializer})
    def create(self, request, *args, **kwargs):
        data = AlertChannelCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        created = alert_channel_create(
            scope=self.scope, kind=v["kind"], name=v["name"], customer_id=v.get("customer_id"), url=v.get("url", ""),
            emails=v.get("emails"), kinds=v.get("kinds"), timezone_name=v.get("timezone") or "")
        body = AlertChannelSerializer(created.channel).data | {"secret": created.secret,
                                                               "bind_code": created.bind_code}
        return Response(body, status=201, headers={"Cache-Control": "no-store"})

    @extend_schema(request=None, responses={202: AlertDeliverySerializer})
    def test(self, request, *args, **kwargs):
        channel = self.get_object()
        return Response({"delivery_id": alert_channel_test(scope=self.scope, channel_id=channel.pk)}, status=202)

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, *args, **kwargs):
        channel = self.get_object()
        alert_channel_delete(scope=self.scope, channel_id=channel.pk)
        return Response(status=204)


def _rule_fields(kind: str | None, v: dict) -> dict:
    fields: dict = {}
    if "threshold" in v:
        if kind == AlertKind.HASHRATE_FLOOR:
            fields["floor_hs"] = v["threshold"]
        elif kind == AlertKind.HASHRATE_DROP:
            if v["threshold"] is None or v["threshold"] != int(v["threshold"]):
                raise ValidationError({"threshold": "For hashrate_drop: whole basis points (5000 is 50 %)."})
            fields["drop_bps"] = int(v["threshold"])
    if "sustain_s" in v:
        fields["duration_minutes"] = v["sustain_s"] // 60
    for name in ("repeat_s", "notify_customer", "is_enabled"):
        if name in v:
            fields[name] = v[name]
    if "channels" in v:
        fields["channel_ids"] = v["channels"]
    return fields


class AlertRuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """What is watched: kind, scope (customer / account / all), threshold, sustain, repeat, channels."""

    model = AlertRule
    ordering = ("-id",)
    serializer_class = AlertRuleSerializer

    def scoped_queryset(self):
        return selectors_alerts.alert_rule_list(scope=self.scope)

    @extend_schema(request=AlertRuleWriteSerializer, responses={201: AlertRuleSerializer})
    def create(self, request, *args, **kwargs):
        data = AlertRuleWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        if "kind" not in v:
            raise ValidationError({"kind": "Choose what to watch."})
        fields = _rule_fields(v["kind"], v)
        fields.pop("is_enabled", None)
        rule = alert_rule_create(scope=self.scope, kind=v["kind"], customer_id=v.get("customer_id"),
                                 account_id=v.get("account_id"), **fields)
        return Response(AlertRuleSerializer(rule).data, status=201)

    @extend_schema(request=AlertRuleWriteSerializer, responses={200: AlertRuleSerializer})
    def partial_update(self, request, *args, **kwargs):
        rule = self.get_object()
        data = AlertRuleWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        if {"kind", "customer_id", "account_id"} & set(v):
            raise ValidationError({"kind": "A rule's kind and scope stay as made; make a new rule."})
        rule = alert_rule_update(scope=self.scope, rule_id=rule.pk, **_rule_fields(rule.kind, v))
        return Response(AlertRuleSerializer(rule).data)
