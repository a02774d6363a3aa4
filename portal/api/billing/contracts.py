"""Contracts (with their dated versions), BTC prices and maintenance windows: reads and writes through
billing.services.contracts, which validates field by field, refuses anything that would change a closed month,
and writes the audit log."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions
from rest_framework.response import Response

from billing.models import BtcPrice, Contract, ContractVersion, MaintenanceWindow
from billing.periods import month_parse
from billing.selectors.contracts import contract_list_api, contract_version_list_api
from billing.selectors.maintenance import maintenance_window_list_api
from billing.selectors.prices import btc_price_list_api
from billing.services.contracts import (
    ContractTerms,
    btc_price_record,
    contract_version_create,
    contract_version_update,
    maintenance_window_create,
)
from portal.api.base import CreateMixin, ScopedViewSet
from portal.api.billing import serializers as s
from portal.api.billing.permissions import BillingTokenScope
from portal.api.filters import ApiFilterSet, IdFilter
from portal.api.idempotency import IDEMPOTENCY_KEY_OPTIONAL

TERM_NAMES = tuple(ContractTerms.__dataclass_fields__)
TERMS_EXAMPLE = {"revenue_share_bps": 1500, "fee_currency": "USD", "machine_count": 40,
                 "machine_fee_monthly": "12.50", "power_mode": "contracted", "power_kw": "130.5",
                 "price_per_kwh": "0.065", "sla_uptime_bps": 9500, "sla_hashrate_hs": "4000000000000000",
                 "sla_credit_cap_bps": 1000}


class ContractExists(exceptions.APIException):
    status_code = 409
    default_code = "contract_exists"


class BillingViewSet(ScopedViewSet):
    permission_classes = [permissions.IsAuthenticated, BillingTokenScope]


def _terms(data: dict, base: ContractVersion | None = None) -> ContractTerms:
    values = {name: getattr(base, name) for name in TERM_NAMES} if base is not None else {}
    values.update({k: v for k, v in data.items() if k in TERM_NAMES})
    return ContractTerms(**values)


class ContractFilter(ApiFilterSet):
    customer_id = IdFilter(field_name="customer_id")

    class Meta:
        model = Contract
        fields: list[str] = []


@extend_schema_view(create=extend_schema(
    request=s.ContractCreateSerializer, responses={201: s.ContractSerializer},
    parameters=[IDEMPOTENCY_KEY_OPTIONAL],
    examples=[OpenApiExample("A customer's first contract", request_only=True,
                             value={"customer_id": 12, "effective_from": "2026-12-01",
                                    **TERMS_EXAMPLE})],
))
class ContractViewSet(CreateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, BillingViewSet):
    """Each customer's contract and its versions (a customer's token: its own, read-only)."""

    model = Contract
    ordering = ("-id",)
    serializer_class = s.ContractSerializer
    filterset_class = ContractFilter

    def scoped_queryset(self):
        return contract_list_api(scope=self.scope)

    create_serializer_class = s.ContractCreateSerializer

    def create_object(self, values, attempt):
        existing = self.get_queryset().filter(customer_id=values["customer_id"]).first()
        if existing is not None:
            raise ContractExists(f"This customer already has contract {existing.pk}: add a version with POST "
                                 f"/api/v1/contracts/{existing.pk}/versions/.")
        version = contract_version_create(scope=self.scope, customer_id=values.pop("customer_id"),
                                          effective_from=values.pop("effective_from"), terms=_terms(values),
                                          now=timezone.now())
        return version.contract

    @extend_schema(request=s.ContractVersionCreateSerializer, responses={201: s.ContractSerializer},
                   parameters=[IDEMPOTENCY_KEY_OPTIONAL],
                   examples=[OpenApiExample("New terms from December", request_only=True,
                                            value={"effective_from": "2026-12-01", **TERMS_EXAMPLE})])
    def versions(self, request, *args, **kwargs):
        """A new version from `effective_from`; the open-ended current one ends the day before."""
        contract = self.get_object()

        def write(_attempt):
            data = s.ContractVersionCreateSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            values = dict(data.validated_data)
            contract_version_create(scope=self.scope, customer_id=contract.customer_id,
                                    effective_from=values.pop("effective_from"), terms=_terms(values),
                                    now=timezone.now())
            return 201, s.ContractSerializer(self.get_queryset().get(pk=contract.pk)).data

        return self.run_idempotent(request, write, key_required=False)


class ContractVersionViewSet(mixins.RetrieveModelMixin, BillingViewSet):
    """One version; PATCH corrects its terms (refused once a closed statement used it: add a version instead)."""

    model = ContractVersion
    ordering = ("-id",)
    serializer_class = s.ContractVersionSerializer

    def scoped_queryset(self):
        return contract_version_list_api(scope=self.scope)

    @extend_schema(request=s.ContractTermsSerializer, responses={200: s.ContractVersionSerializer},
                   examples=[OpenApiExample("Correct the machine count", request_only=True,
                                            value={"machine_count": 42})])
    def partial_update(self, request, *args, **kwargs):
        version = self.get_object()
        data = s.ContractTermsSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        updated = contract_version_update(scope=self.scope, version_id=version.pk,
                                          terms=_terms(data.validated_data, base=version))
        return Response(s.ContractVersionSerializer(updated).data)


class BtcPriceFilter(ApiFilterSet):
    class Meta:
        model = BtcPrice
        fields = {"currency": ["exact"]}


@extend_schema_view(create=extend_schema(
    request=s.BtcPriceCreateSerializer, responses={201: s.BtcPriceSerializer},
    parameters=[IDEMPOTENCY_KEY_OPTIONAL],
    examples=[OpenApiExample("November's USD price", request_only=True,
                             value={"currency": "USD", "period": "2026-11", "price": "91234.50",
                                    "as_of": "2026-11-30", "source": "WhiteBIT BTC/USD close"})],
))
class BtcPriceViewSet(CreateMixin, mixins.ListModelMixin, BillingViewSet):
    """The month's BTC price per fiat currency, at which that month's fiat fees convert (provider staff only)."""

    model = BtcPrice
    ordering = ("-id",)
    serializer_class = s.BtcPriceSerializer
    filterset_class = BtcPriceFilter

    def scoped_queryset(self):
        return btc_price_list_api(scope=self.scope)

    create_serializer_class = s.BtcPriceCreateSerializer

    def create_object(self, values, attempt):
        return btc_price_record(scope=self.scope, currency=values["currency"], period=month_parse(values["period"]),
                                price=values["price"], as_of=values["as_of"], source=values["source"],
                                now=timezone.now())


class MaintenanceWindowFilter(ApiFilterSet):
    customer_id = IdFilter(field_name="customer_id")

    class Meta:
        model = MaintenanceWindow
        fields: list[str] = []


@extend_schema_view(create=extend_schema(
    request=s.MaintenanceWindowCreateSerializer, responses={201: s.MaintenanceWindowSerializer},
    parameters=[IDEMPOTENCY_KEY_OPTIONAL],
    examples=[OpenApiExample("Firmware upgrade", request_only=True,
                             value={"starts_at": "2026-12-03T08:00:00Z",
                                    "ends_at": "2026-12-03T10:00:00Z",
                                    "reason": "Firmware upgrade, hall B"})],
))
class MaintenanceWindowViewSet(CreateMixin, mixins.ListModelMixin, BillingViewSet):
    """Planned work: its 5-minute slots do not count against an uptime SLA."""

    model = MaintenanceWindow
    ordering = ("-id",)
    serializer_class = s.MaintenanceWindowSerializer
    filterset_class = MaintenanceWindowFilter

    def scoped_queryset(self):
        return maintenance_window_list_api(scope=self.scope)

    create_serializer_class = s.MaintenanceWindowCreateSerializer
    create_read_again = False

    def create_object(self, values, attempt):
        return maintenance_window_create(scope=self.scope, now=timezone.now(), **values)

