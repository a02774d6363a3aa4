from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.response import Response

from mining.models import AccountHashrateSample, Interval, MiningAccount, Reward, Worker, WorkerHashrateSample
from mining.selectors.accounts import mining_account_list_api
from mining.selectors.charts import account_hashrate_series, worker_hashrate_series
from mining.selectors.labels import accounts_with_label, workers_with_label
from mining.selectors.payouts import payout_change_pending_for_account
from mining.selectors.rewards import reward_list_api
from mining.selectors.workers import worker_list_api
from mining.services.payouts import payout_change_request
from mining.services.upstream_writes import mining_account_create
from portal.api.base import CreateMixin, ScopedViewSet
from portal.api.filters import ApiFilterSet, IdFilter, StrictBooleanFilter
from portal.api.idempotency import IDEMPOTENCY_KEY_REQUIRED
from portal.api.mining.serializers import (
    AccountHashrateSerializer,
    MiningAccountCreateSerializer,
    MiningAccountSerializer,
    PayoutDestinationSerializer,
    PayoutDestinationSetSerializer,
    RewardSerializer,
    WorkerHashrateSerializer,
    WorkerSerializer,
)


class MiningAccountFilter(ApiFilterSet):
    customer_id = IdFilter(field_name="customer_id")
    label = IdFilter(method="filter_label", help_text="Only accounts carrying this label (its id).")

    def filter_label(self, queryset, name, value):
        return accounts_with_label(queryset, int(value))
    unassigned = StrictBooleanFilter(field_name="customer", lookup_expr="isnull")
    is_active = StrictBooleanFilter(field_name="is_active")

    class Meta:
        model = MiningAccount
        fields = {"name": ["exact"], "sync_status": ["exact"]}


@extend_schema_view(create=extend_schema(
    request=MiningAccountCreateSerializer, responses={201: MiningAccountSerializer},
    parameters=[IDEMPOTENCY_KEY_REQUIRED],
    examples=[OpenApiExample("Create and assign", request_only=True,
                             value={"name": "northwind_site_a", "customer_id": 12, "label": "Site A, S19j"})],
))
class MiningAccountViewSet(CreateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Mining accounts. Creating one creates it on the pool first (Idempotency-Key required)."""

    model = MiningAccount
    ordering = ("-id",)
    serializer_class = MiningAccountSerializer
    filterset_class = MiningAccountFilter

    def scoped_queryset(self):
        return mining_account_list_api(scope=self.scope)

    create_serializer_class = MiningAccountCreateSerializer
    create_key_required = True
    create_read_again = False

    def create_object(self, values, attempt):
        return mining_account_create(scope=self.scope, attempt=attempt, **values)


class PayoutDestinationViewSet(ScopedViewSet):
    """An account's payout destination: the portal's record, what the pool said at the last sync, and the change
    waiting to reach the pool (`pending_change`). A PUT never reaches the pool at once: it creates a held change
    (202), sent by a task when the provider's hold time ends, cancelable until then (docs/SECURITY.md)."""

    model = MiningAccount
    serializer_class = PayoutDestinationSerializer
    pagination_class = None
    filter_backends: list = []

    def scoped_queryset(self):
        return mining_account_list_api(scope=self.scope)

    def _shaped(self, account: MiningAccount) -> dict:
        account.pending_change = payout_change_pending_for_account(scope=self.scope, account_id=account.pk)
        return PayoutDestinationSerializer(account).data

    def retrieve(self, request, *args, **kwargs):
        return Response(self._shaped(self.get_object()))

    @extend_schema(
        request=PayoutDestinationSetSerializer, responses={202: PayoutDestinationSerializer},
        parameters=[IDEMPOTENCY_KEY_REQUIRED],
        examples=[OpenApiExample("Pay out on chain", request_only=True,
                                 value={"destination": "external_address",
                                        "address": "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"})],
    )
    def update(self, request, *args, **kwargs):
        account = self.get_object()  # 404 before anything else for someone else's account

        def write(_unknown_since):
            data = PayoutDestinationSetSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            payout_change_request(scope=self.scope, account_id=account.pk, **data.validated_data)
            return 202, self._shaped(self.get_object())

        return self.run_idempotent(request, write, key_required=True)


class WorkerFilter(ApiFilterSet):
    account_id = IdFilter(field_name="account_id")
    customer_id = IdFilter(field_name="customer_id")
    label = IdFilter(method="filter_label",
                     help_text="Only workers carrying this label, or whose account carries it (its id).")

    def filter_label(self, queryset, name, value):
        return workers_with_label(queryset, int(value))

    class Meta:
        model = Worker
        fields = {"status": ["exact"], "name": ["exact"]}


class WorkerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    model = Worker
    ordering = ("-id",)
    serializer_class = WorkerSerializer
    filterset_class = WorkerFilter

    def scoped_queryset(self):
        return worker_list_api(scope=self.scope)


class RewardFilter(ApiFilterSet):
    account_id = IdFilter(field_name="account_id")
    customer_id = IdFilter(field_name="customer_id")
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = Reward
        fields = {"status": ["exact"]}


class RewardViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Daily FPPS rewards, in satoshis (exact strings), newest recorded first; narrow with date_from/date_to."""

    model = Reward
    ordering = ("-id",)  # the primary key's order: a page costs the same at any depth (see docs/BENCHMARKS.md)
    serializer_class = RewardSerializer
    filterset_class = RewardFilter

    def scoped_queryset(self):
        return reward_list_api(scope=self.scope)


def _series_filter(model):
    attrs = {
        "interval": django_filters.ChoiceFilter(choices=Interval.choices, empty_label=None,
                                                help_text="5m, 1h (default) or 24h"),
        "from": django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte",
                                                 help_text="ISO 8601, inclusive"),
        "to": django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lte", help_text="ISO 8601, inclusive"),
        "Meta": type("Meta", (), {"model": model, "fields": []}),
    }
    return type(f"{model.__name__}Filter", (ApiFilterSet,), attrs)


class _SeriesViewSet(mixins.ListModelMixin, ScopedViewSet):
    ordering = ("at",)

    def default_interval(self, qs):
        if "interval" not in self.request.query_params:
            qs = qs.filter(interval=Interval.H1)
        return qs


@extend_schema(parameters=[OpenApiParameter("account_id", int, OpenApiParameter.PATH)])
class AccountHashrateViewSet(_SeriesViewSet):
    """An account's hashrate series (oldest first), for one interval and an optional time range."""

    model = AccountHashrateSample
    serializer_class = AccountHashrateSerializer
    filterset_class = _series_filter(AccountHashrateSample)

    def scoped_queryset(self):
        return self.default_interval(account_hashrate_series(scope=self.scope, account_id=self.kwargs["account_id"]))


@extend_schema(parameters=[OpenApiParameter("worker_id", int, OpenApiParameter.PATH)])
class WorkerHashrateViewSet(_SeriesViewSet):
    """A worker's hashrate series (oldest first), for one interval and an optional time range."""

    model = WorkerHashrateSample
    serializer_class = WorkerHashrateSerializer
    filterset_class = _series_filter(WorkerHashrateSample)

    def scoped_queryset(self):
        return self.default_interval(worker_hashrate_series(scope=self.scope, worker_id=self.kwargs["worker_id"]))
