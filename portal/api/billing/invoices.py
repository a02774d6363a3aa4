"""Invoices (list, one with its lines and amount due, the PDF), payments (list, record with an Idempotency-Key) and
a customer's billing details (read, change): through billing's selectors and services, which check the scope and
the capability and write the audit log."""

from __future__ import annotations

import django_filters
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import mixins
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from billing.invoice_pdf import invoice_pdf
from billing.models.invoices import CustomerBillingDetails, Invoice, Payment
from billing.periods import month_parse
from billing.selectors.invoices import invoice_list, invoices_with_status, payment_list
from billing.services.billing_details import DetailsInput, customer_billing_details_get, customer_billing_details_set
from billing.services.payments import payment_record
from portal.api.billing import invoice_serializers as s
from portal.api.billing.contracts import BillingViewSet
from portal.api.billing.statements import _AnyAccept
from portal.api.filters import ApiFilterSet, IdFilter
from portal.api.idempotency import IDEMPOTENCY_KEY_REQUIRED


class InvoiceFilter(ApiFilterSet):
    customer_id = IdFilter(field_name="customer_id")
    period = django_filters.CharFilter(method="filter_period", help_text="The service month, YYYY-MM.")
    status = django_filters.ChoiceFilter(choices=[(c, c) for c in s.STATUS_CHOICES], method="filter_status",
                                         help_text="As of today: overdue is an open invoice past its due date.")

    class Meta:
        model = Invoice
        fields: list[str] = []

    def filter_period(self, queryset, name, value):
        return queryset.filter(period=month_parse(value, field="period"))

    def filter_status(self, queryset, name, value):
        return invoices_with_status(queryset, status=value, today=timezone.now().date())


class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BillingViewSet):
    """Invoices and credit notes (a customer's token: its own), newest first."""

    model = Invoice
    ordering = ("-id",)
    serializer_class = s.InvoiceSummarySerializer
    filterset_class = InvoiceFilter

    def scoped_queryset(self):
        qs = invoice_list(scope=self.scope, today=timezone.now().date())
        return qs.prefetch_related("lines") if self.action != "list" else qs

    def get_serializer_class(self):
        return s.InvoiceSerializer if self.action == "retrieve" else s.InvoiceSummarySerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.now().date()}

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def pdf(self, request, *args, **kwargs):
        """The invoice as the PDF bill (A4), with the month's reward lines as an annex."""
        invoice = self.get_object()
        response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
        return response


class InvoicePdfViewSet(InvoiceViewSet):
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _AnyAccept
    pagination_class = None


class PaymentFilter(ApiFilterSet):
    customer_id = IdFilter(field_name="customer_id")
    invoice_id = IdFilter(field_name="invoice_id")

    class Meta:
        model = Payment
        fields: list[str] = []


class PaymentViewSet(mixins.ListModelMixin, BillingViewSet):
    """Payments received (a customer's token: its own). Recording one needs billing and write."""

    model = Payment
    ordering = ("-id",)
    serializer_class = s.PaymentSerializer
    filterset_class = PaymentFilter

    def scoped_queryset(self):
        return payment_list(scope=self.scope)

    @extend_schema(request=s.PaymentCreateSerializer, responses={201: s.PaymentSerializer},
                   parameters=[IDEMPOTENCY_KEY_REQUIRED],
                   examples=[OpenApiExample("A bank transfer", request_only=True, value={
                       "invoice_id": 42, "amount": "312.40", "currency": "USD", "paid_at": "2026-11-14",
                       "method": "bank_transfer", "reference": "SEPA 2026-11-14 DH-2026-0042"})])
    def create(self, request, *args, **kwargs):
        """Record a payment: partial, full or more (the excess is the customer's credit for the next invoice).
        A retry with the same Idempotency-Key gets the first answer and never records twice."""
        def write(_attempt):
            data = s.PaymentCreateSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            payment = payment_record(scope=self.scope, now=timezone.now(), **data.validated_data)
            return 201, s.PaymentSerializer(self.get_queryset().get(pk=payment.pk)).data

        return self.run_idempotent(request, write, key_required=True)


CUSTOMER_ID = OpenApiParameter("customer_id", int, OpenApiParameter.PATH)


class BillingDetailsViewSet(BillingViewSet):
    """A customer's billing details: the provider's billing staff, or the customer's own admin token."""

    model = CustomerBillingDetails
    serializer_class = s.BillingDetailsSerializer
    pagination_class = None

    def scoped_queryset(self):
        return CustomerBillingDetails._default_manager.none()  # read through the service below

    @extend_schema(parameters=[CUSTOMER_ID], responses={200: s.BillingDetailsSerializer})
    def retrieve(self, request, *args, **kwargs):
        details = customer_billing_details_get(scope=self.scope, customer_id=int(kwargs["customer_id"]))
        return Response(s.BillingDetailsSerializer(details).data)

    @extend_schema(parameters=[CUSTOMER_ID], request=s.BillingDetailsWriteSerializer,
                   responses={200: s.BillingDetailsSerializer},
                   examples=[OpenApiExample("Invoice in EUR with 20 % VAT", request_only=True, value={
                       "legal_name": "Carol Mining GmbH", "currency": "EUR", "tax_treatment": "rate",
                       "tax_rate_bps": 2000, "payment_terms_days": 30})])
    def partial_update(self, request, *args, **kwargs):
        """Change some fields; the others keep their values. Refused field by field."""
        customer_id = int(kwargs["customer_id"])
        current = customer_billing_details_get(scope=self.scope, customer_id=customer_id)
        data = s.BillingDetailsWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = {f: getattr(current, f) for f in DetailsInput.__dataclass_fields__}
        values.update(data.validated_data)
        details = customer_billing_details_set(scope=self.scope, customer_id=customer_id,
                                               data=DetailsInput(**values), now=timezone.now())
        return Response(s.BillingDetailsSerializer(details).data)
