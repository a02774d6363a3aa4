"""A closed statement's fingerprint, and loading a closed statement back into the calculation's shape.

Why a hash: a closed statement is immutable; the SHA-256 of its canonical content is recorded at close and
recomputed from the stored rows before every export, so a row changed behind the product's back (a manual SQL
edit, a bad migration) stops the export with a clear message instead of sending a different bill.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from operator import attrgetter, itemgetter
from typing import Any

from billing.models import Statement, StatementFee, StatementLine
from billing.records import Fee, Line, StatementData

HEADER_FIELDS = (
    "customer_id", "period", "period_end", "customer_name", "gross_sats", "pool_fee_sats", "net_sats",
    "provider_share_sats", "customer_share_sats", "held_by_provider_sats", "held_by_customer_sats",
    "hosting_fee_sats", "sla_credit_sats", "adjustments_sats", "customer_net_sats", "pending_sats", "sla", "rates",
)
LINE_FIELDS = (
    "position", "kind", "reward_id", "account_id", "account_name", "date", "gross_sats", "pool_fee_sats", "net_sats",
    "revenue_share_bps", "provider_share_sats", "customer_share_sats", "fpps_rate", "hashrate_hs", "paid_to",
    "payout_address", "tx_hash", "memo", "amount_sats",
)
FEE_FIELDS = (
    "position", "kind", "version_id", "start", "end", "description", "quantity", "unit", "unit_price", "currency",
    "amount", "amount_sats",
)
# Stored beside the hashed fields, outside the hash: statements closed before coverage was recorded keep their hash
# (the coverage is also stated in the hashed description).
FEE_STORED_FIELDS = (*FEE_FIELDS, "coverage_bps")


def _canon(value: Any) -> Any:
    """One spelling per value: Decimals without trailing zeros (so 1.50 stored as 1.50000000 is the same)."""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and type(value) is not str:  # a choices enum member: its value
        return str.__str__(value)
    return value


_LINE_ATTRS, _LINE_ITEMS = attrgetter(*LINE_FIELDS), itemgetter(*LINE_FIELDS)
_FEE_ATTRS, _FEE_ITEMS = attrgetter(*FEE_FIELDS), itemgetter(*FEE_FIELDS)
_HEADER_ATTRS = attrgetter(*HEADER_FIELDS)
# Fields whose spelling could differ between a computed row and one read back. Lines need none: their Decimals
# come from columns of the same precision as the snapshot's (a reward's FPPS rate and hashrate), their dates repr
# alike and their kinds are plain strings; skipping the work matters at 300,000 lines. Fees are few: normalise.
_LINE_CANON: list[int] = []
_FEE_CANON = [i for i, f in enumerate(FEE_FIELDS) if f in ("kind", "start", "end", "quantity", "unit_price", "amount")]


def _row_bytes(values: tuple, canon: list[int]) -> bytes:
    """A line or fee as the repr of a tuple of ints, strs and None (cheap: a close hashes 300,000 lines)."""
    row = list(values)
    for i in canon:
        row[i] = _canon(row[i])
    return repr(tuple(row)).encode() + b"\n"


class StatementHasher:
    """Feed a header, then lines in position order, then fees in position order (objects or `.values()` dicts)."""

    def __init__(self, header: Any):
        self._h = hashlib.sha256(b"statement-v1\n")
        header_values = [_canon(v) for v in _HEADER_ATTRS(header)]
        self._h.update(json.dumps(header_values, separators=(",", ":"), sort_keys=True).encode() + b"\n")

    def line(self, line: Any) -> None:
        self._h.update(b"L" + _row_bytes(_LINE_ITEMS(line) if isinstance(line, dict) else _LINE_ATTRS(line),
                                         _LINE_CANON))

    def line_values(self, values: tuple) -> None:
        """A line as a tuple in LINE_FIELDS order (the export's streamed rows)."""
        self._h.update(b"L" + _row_bytes(values, _LINE_CANON))

    def fee(self, fee: Any) -> None:
        self._h.update(b"F" + _row_bytes(_FEE_ITEMS(fee) if isinstance(fee, dict) else _FEE_ATTRS(fee), _FEE_CANON))

    def fee_values(self, values: tuple) -> None:
        self._h.update(b"F" + _row_bytes(values, _FEE_CANON))

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def statement_hash(data: StatementData) -> str:
    hasher = StatementHasher(data)
    for line in data.lines:
        hasher.line(line)
    for fee in data.fees:
        hasher.fee(fee)
    return hasher.hexdigest()


def statement_load(statement: Statement) -> StatementData:
    """A closed statement as the calculation's dataclasses (for the page, the PDF and verification)."""
    lines = [Line(**row) for row in StatementLine.objects.filter(statement=statement).order_by("position")
             .values(*LINE_FIELDS)]
    fees = [Fee(**row) for row in StatementFee.objects.filter(statement=statement).order_by("position")
            .values(*FEE_STORED_FIELDS)]
    data = StatementData(
        provider_id=statement.provider_id, lines=lines, fees=fees, is_closed=True, closed_at=statement.closed_at,
        content_hash=statement.content_hash, statement_id=statement.pk,
        **{f: getattr(statement, f) for f in HEADER_FIELDS},
    )
    return data
