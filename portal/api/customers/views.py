from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import mixins

from portal.api.base import ScopedViewSet
from portal.api.customers.serializers import CustomerCreateSerializer, CustomerSerializer
from portal.api.filters import ApiFilterSet
from portal.api.idempotency import IDEMPOTENCY_KEY_OPTIONAL
from tenants.models import Customer
from tenants.selectors import customer_list
from tenants.services.customers import customer_create_in_scope


class CustomerFilter(ApiFilterSet):
    class Meta:
        model = Customer
        fields = {"status": ["exact"], "slug": ["exact"]}


class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The provider's customers (a customer's token sees only its own)."""

    model = Customer
    ordering = ("-id",)
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter

    def scoped_queryset(self):
        return customer_list(scope=self.scope)

    @extend_schema(
        request=CustomerCreateSerializer, responses={201: CustomerSerializer}, parameters=[IDEMPOTENCY_KEY_OPTIONAL],
        examples=[OpenApiExample("A new customer", request_only=True,
                                 value={"name": "Northwind Mining", "slug": "northwind",
                                        "contact_emails": ["ops@northwind.example"]})],
    )
    def create(self, request, *args, **kwargs):
        def write(_unknown_since):
            data = CustomerCreateSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            customer = customer_create_in_scope(scope=self.scope, **data.validated_data)
            return 201, CustomerSerializer(customer).data

        return self.run_idempotent(request, write, key_required=False)
