from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins

from mining.models import WatcherLink
from mining.selectors.watcher_links import watcher_link_list_api
from mining.services.upstream_writes import watcher_link_create
from portal.api.base import CreateMixin, ScopedViewSet
from portal.api.filters import ApiFilterSet, IdFilter, StrictBooleanFilter
from portal.api.idempotency import IDEMPOTENCY_KEY_REQUIRED
from portal.api.watcher_links.serializers import WatcherLinkCreateSerializer, WatcherLinkSerializer


class WatcherLinkFilter(ApiFilterSet):
    account_id = IdFilter(field_name="accounts", distinct=False)
    customer_id = IdFilter(field_name="customer_id")
    is_active = StrictBooleanFilter(field_name="is_active")

    class Meta:
        model = WatcherLink
        fields: list[str] = []


@extend_schema_view(create=extend_schema(
    request=WatcherLinkCreateSerializer, responses={201: WatcherLinkSerializer},
    parameters=[IDEMPOTENCY_KEY_REQUIRED],
    examples=[OpenApiExample("A week's dashboard", request_only=True,
                             value={"account_ids": [41], "name": "northwind_week",
                                    "permissions": ["dashboard", "rewards"], "live_until": "7d"})],
))
class WatcherLinkViewSet(CreateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Read-only pool pages to share. Creating one creates it on the pool (Idempotency-Key required)."""

    model = WatcherLink
    ordering = ("-id",)
    serializer_class = WatcherLinkSerializer
    filterset_class = WatcherLinkFilter

    def scoped_queryset(self):
        return watcher_link_list_api(scope=self.scope)

    create_serializer_class = WatcherLinkCreateSerializer
    create_key_required = True

    def create_object(self, values, attempt):
        return watcher_link_create(scope=self.scope, attempt=attempt, **values)
