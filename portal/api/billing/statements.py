"""Statements: the closed ones (list), one customer's month (closed: frozen; open: computed to date) and the
downloads (CSV streamed, XLSX, PDF; the provider's monthly summary and detail CSV), each verified against the
content hash recorded at close before the first byte is sent."""

from __future__ import annotations

import django_filters
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from billing.exports import downloads
from billing.models import Statement
from billing.periods import month_parse
from billing.selectors.statements import statement_get, statement_list_api
from portal.api.billing import serializers as s
from portal.api.billing.contracts import BillingViewSet
from portal.api.filters import ApiFilterSet, IdFilter
from portal.api.schema import ErrorSerializer
from tenants.access import get_in_scope
from tenants.models import Customer

PERIOD = OpenApiParameter("period", str, OpenApiParameter.PATH, pattern=r"^[0-9]{4}-[0-9]{2}$",
                          description="The month, YYYY-MM.")
CUSTOMER_ID = OpenApiParameter("customer_id", int, OpenApiParameter.PATH)
REFUSED = {400: ErrorSerializer}  # a malformed month, or a download refused in words (not closed, hash mismatch)


class StatementFilter(ApiFilterSet):
    customer_id = IdFilter(field_name="customer_id")
    period = django_filters.CharFilter(method="filter_period", help_text="YYYY-MM")

    class Meta:
        model = Statement
        fields: list[str] = []

    def filter_period(self, queryset, name, value):
        return queryset.filter(period=month_parse(value, field="period"))


class StatementListViewSet(mixins.ListModelMixin, BillingViewSet):
    """Closed statements (a customer's token: its own), most recently closed first. The running month is not a
    row here: read it at /customers/{id}/statements/{YYYY-MM}/ (month to date)."""

    model = Statement
    ordering = ("-id",)
    serializer_class = s.StatementSummarySerializer
    filterset_class = StatementFilter

    def scoped_queryset(self):
        return statement_list_api(scope=self.scope)


class _AnyAccept(BaseContentNegotiation):
    """Downloads answer in their own type; their errors always in JSON, whatever the client accepts."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class StatementViewSet(BillingViewSet):
    """One customer's statement for a month, and its downloads."""

    model = Statement
    serializer_class = s.StatementSerializer
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _AnyAccept
    pagination_class = None

    def scoped_queryset(self):
        return statement_list_api(scope=self.scope)

    def _period(self):
        return month_parse(self.kwargs["period"], field="period")

    @extend_schema(parameters=[CUSTOMER_ID, PERIOD], responses={200: s.StatementSerializer, **REFUSED})
    def retrieve(self, request, *args, **kwargs):
        """Closed month: the frozen statement (with `content_hash`). Open month: computed over the completed UTC
        days so far (`period_end` is today), the same calculation the close will freeze."""
        period = self._period()
        data = statement_get(scope=self.scope, customer_id=int(kwargs["customer_id"]), period=period,
                             today=timezone.now().date())
        if data is None:
            raise Http404(f"Nothing to bill for {period:%Y-%m}.")
        return Response(s.StatementSerializer(data).data)

    def _closed(self):
        return downloads.closed_statement_verified(scope=self.scope, customer_id=self._customer_id(),
                                                   period=self._period())

    def _customer_id(self) -> int:
        return get_in_scope(Customer, self.scope, pk=int(self.kwargs["customer_id"])).pk

    def _filename(self, data, extension: str) -> str:
        return f"statement-{data.customer_id}-{data.period:%Y-%m}.{extension}"

    @extend_schema(parameters=[CUSTOMER_ID, PERIOD], responses={(200, "text/csv"): OpenApiTypes.BINARY, **REFUSED})
    def csv(self, request, *args, **kwargs):
        """Every line of a closed statement, BTC amounts with 8 places (streamed)."""
        data = self._closed()
        response = StreamingHttpResponse(downloads.statement_csv_stream(data), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{self._filename(data, "csv")}"'
        return response

    @extend_schema(parameters=[CUSTOMER_ID, PERIOD], responses={
        (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY, **REFUSED})
    def xlsx(self, request, *args, **kwargs):
        data = self._closed()
        response = HttpResponse(downloads.statement_xlsx(data),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="{self._filename(data, "xlsx")}"'
        return response

    @extend_schema(parameters=[CUSTOMER_ID, PERIOD],
                   responses={(200, "application/pdf"): OpenApiTypes.BINARY, **REFUSED})
    def pdf(self, request, *args, **kwargs):
        data = self._closed()
        response = HttpResponse(downloads.statement_pdf(data, provider_name=downloads.provider_name(self.scope)),
                                content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{self._filename(data, "pdf")}"'
        return response


class BillingMonthExportViewSet(BillingViewSet):
    """The provider's exports of a closed month (every customer): staff only."""

    model = Statement
    serializer_class = s.StatementSummarySerializer  # (schema introspection only: the answers are CSV)
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _AnyAccept
    pagination_class = None

    def scoped_queryset(self):
        return statement_list_api(scope=self.scope)

    def _stream(self, detail: bool):
        if self.scope.customer_id is not None:
            raise exceptions.PermissionDenied(
                "A month's exports cover every customer: provider staff only. Download your own statement at "
                "/api/v1/customers/{id}/statements/{YYYY-MM}/csv/.")
        period = month_parse(self.kwargs["period"], field="period")
        stream = downloads.month_csv_stream(scope=self.scope, period=period, detail=detail)
        response = StreamingHttpResponse(stream, content_type="text/csv")
        name = f"{'detail' if detail else 'summary'}-{period:%Y-%m}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    @extend_schema(parameters=[PERIOD], responses={(200, "text/csv"): OpenApiTypes.BINARY, **REFUSED})
    def summary_csv(self, request, *args, **kwargs):
        """One row per customer: the totals as BTC with 8 places, and each statement's content hash."""
        return self._stream(detail=False)

    @extend_schema(parameters=[PERIOD], responses={(200, "text/csv"): OpenApiTypes.BINARY, **REFUSED})
    def detail_csv(self, request, *args, **kwargs):
        """Every reward line billed in the month (late rewards of earlier months included, marked by `kind`)."""
        return self._stream(detail=True)
