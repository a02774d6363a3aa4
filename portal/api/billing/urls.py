from __future__ import annotations

from django.urls import path, register_converter

from portal.api.billing import contracts, invoices, statements


class MonthConverter:
    """YYYY-MM in a path; whether it is a real month is the view's field error (month_parse)."""

    regex = "[0-9]{4}-[0-9]{2}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(MonthConverter, "month")

_CUSTOMER_MONTH = "customers/<int:customer_id>/statements/<month:period>/"

urlpatterns = [
    path("invoices/", invoices.InvoiceViewSet.as_view({"get": "list"}), name="invoice-list"),
    path("invoices/<int:id>/", invoices.InvoiceViewSet.as_view({"get": "retrieve"}), name="invoice-detail"),
    path("invoices/<int:id>/pdf/", invoices.InvoicePdfViewSet.as_view({"get": "pdf"}), name="invoice-pdf"),
    path("payments/", invoices.PaymentViewSet.as_view({"get": "list", "post": "create"}), name="payment-list"),
    path("customers/<int:customer_id>/billing-details/",
         invoices.BillingDetailsViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
         name="customer-billing-details"),
    path("contracts/", contracts.ContractViewSet.as_view({"get": "list", "post": "create"}), name="contract-list"),
    path("contracts/<int:id>/", contracts.ContractViewSet.as_view({"get": "retrieve"}), name="contract-detail"),
    path("contracts/<int:id>/versions/", contracts.ContractViewSet.as_view({"post": "versions"}),
         name="contract-versions"),
    path("contract-versions/<int:id>/",
         contracts.ContractVersionViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
         name="contract-version-detail"),
    path("btc-prices/", contracts.BtcPriceViewSet.as_view({"get": "list", "post": "create"}), name="btc-price-list"),
    path("maintenance-windows/", contracts.MaintenanceWindowViewSet.as_view({"get": "list", "post": "create"}),
         name="maintenance-window-list"),
    path("statements/", statements.StatementListViewSet.as_view({"get": "list"}), name="statement-list"),
    path(_CUSTOMER_MONTH, statements.StatementViewSet.as_view({"get": "retrieve"}), name="statement-detail"),
    path(_CUSTOMER_MONTH + "csv/", statements.StatementViewSet.as_view({"get": "csv"}), name="statement-csv"),
    path(_CUSTOMER_MONTH + "xlsx/", statements.StatementViewSet.as_view({"get": "xlsx"}), name="statement-xlsx"),
    path(_CUSTOMER_MONTH + "pdf/", statements.StatementViewSet.as_view({"get": "pdf"}), name="statement-pdf"),
    path("billing-months/<month:period>/summary-csv/", statements.BillingMonthExportViewSet.as_view(
        {"get": "summary_csv"}), name="billing-month-summary"),
    path("billing-months/<month:period>/detail-csv/", statements.BillingMonthExportViewSet.as_view(
        {"get": "detail_csv"}), name="billing-month-detail"),
]
