"""Billing's tables, one module per entity: contracts and their inputs, closed months and statements, export jobs,
invoices and payments, collections.

Django finds an app's models by importing `billing.models`: this module imports each entity's module, and callers
import from here (`from billing.models import Invoice`).
"""

from billing.models.collections import (
    CollectionPolicy,
    CollectionStep,
    CollectionStepKind,
    DelinquencySwitch,
)
from billing.models.contracts import (
    FIAT,
    Adjustment,
    BtcPrice,
    Contract,
    ContractVersion,
    CoverageFallback,
    EnergyEntry,
    MaintenanceWindow,
    PowerMode,
)
from billing.models.exports import (
    ExportJob,
    ExportKind,
    ExportStatus,
)
from billing.models.invoices import (
    AMOUNT,
    BillingProfile,
    CustomerBillingDetails,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceLineKind,
    InvoiceSequence,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Settlement,
    TaxTreatment,
)
from billing.models.statements import (
    BillingMonth,
    FeeKind,
    LineKind,
    Statement,
    StatementFee,
    StatementLine,
)

__all__ = [
    "AMOUNT",
    "Adjustment",
    "BillingMonth",
    "BillingProfile",
    "BtcPrice",
    "CollectionPolicy",
    "CollectionStep",
    "CollectionStepKind",
    "Contract",
    "ContractVersion",
    "CoverageFallback",
    "CustomerBillingDetails",
    "DelinquencySwitch",
    "EnergyEntry",
    "ExportJob",
    "ExportKind",
    "ExportStatus",
    "FIAT",
    "FeeKind",
    "Invoice",
    "InvoiceKind",
    "InvoiceLine",
    "InvoiceLineKind",
    "InvoiceSequence",
    "InvoiceStatus",
    "LineKind",
    "MaintenanceWindow",
    "Payment",
    "PaymentMethod",
    "PowerMode",
    "Settlement",
    "Statement",
    "StatementFee",
    "StatementLine",
    "TaxTreatment",
]
