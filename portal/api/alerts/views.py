from __future__ import annotations

from rest_framework import mixins

from mining.models import Alert
from mining.selectors.alerts import alert_list_api
from portal.api.alerts.serializers import AlertSerializer
from portal.api.base import ScopedViewSet
from portal.api.filters import ApiFilterSet, IdFilter, StrictBooleanFilter


class AlertFilter(ApiFilterSet):
    account_id = IdFilter(field_name="account_id")
    customer_id = IdFilter(field_name="customer_id")
    is_open = StrictBooleanFilter(field_name="resolved_at", lookup_expr="isnull")

    class Meta:
        model = Alert
        fields = {"kind": ["exact"]}


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Alerts raised by the sync (hashrate floors and drops, offline workers, stale syncs), newest first."""

    model = Alert
    ordering = ("-id",)
    serializer_class = AlertSerializer
    filterset_class = AlertFilter

    def scoped_queryset(self):
        return alert_list_api(scope=self.scope)
