from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins

from portal.api.base import CreateMixin, ScopedViewSet
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


@extend_schema_view(create=extend_schema(
    request=CustomerCreateSerializer, responses={201: CustomerSerializer}, parameters=[IDEMPOTENCY_KEY_OPTIONAL],
    examples=[OpenApiExample("A new customer", request_only=True,
                             value={"name": "Northwind Mining", "slug": "northwind",
                                    "contact_emails": ["ops@northwind.example"]})],
))
class CustomerViewSet(CreateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The provider's customers (a customer's token sees only its own)."""

    model = Customer
    ordering = ("-id",)
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter

    def scoped_queryset(self):
        return customer_list(scope=self.scope)

    create_serializer_class = CustomerCreateSerializer
    create_read_again = False

    def create_object(self, values, attempt):
        return customer_create_in_scope(scope=self.scope, **values)
