from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import mixins

from mining.models import WatcherLink
from mining.selectors.watcher_links import watcher_link_list_api
from mining.services.upstream_writes import watcher_link_create
from portal.api.base import ScopedViewSet
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


class WatcherLinkViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Read-only pool pages to share. Creating one creates it on the pool (Idempotency-Key required)."""

    model = WatcherLink
    ordering = ("-id",)
    serializer_class = WatcherLinkSerializer
    filterset_class = WatcherLinkFilter

    def scoped_queryset(self):
        return watcher_link_list_api(scope=self.scope)

    @extend_schema(
        request=WatcherLinkCreateSerializer, responses={201: WatcherLinkSerializer},
        parameters=[IDEMPOTENCY_KEY_REQUIRED],
        examples=[OpenApiExample("A week's dashboard", request_only=True,
                                 value={"account_ids": [41], "name": "northwind_week",
                                        "permissions": ["dashboard", "rewards"], "live_until": "7d"})],
    )
    def create(self, request, *args, **kwargs):
        def write(attempt):
            data = WatcherLinkCreateSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            link = watcher_link_create(scope=self.scope, attempt=attempt,
                                       **data.validated_data)
            link = watcher_link_list_api(scope=self.scope).get(pk=link.pk)
            return 201, WatcherLinkSerializer(link).data

        return self.run_idempotent(request, write, key_required=True)
