"""The shapes of a statement: reward lines, fee lines and the statement itself.

Field names are those of the snapshot models (StatementLine, StatementFee, Statement), so a computed statement and
a closed one read back from the database are the same objects to templates, exports and the content hash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from billing.models import LineKind

PAID_TO_PROVIDER = "provider"
PAID_TO_CUSTOMER = "customer"


@dataclass(slots=True)
class Line:
    """A reward (or adjustment) line; field names are StatementLine's, so a closed one loads into the same shape."""

    position: int
    kind: str
    reward_id: int | None = None
    account_id: int | None = None
    account_name: str = ""
    date: date | None = None
    gross_sats: int = 0
    pool_fee_sats: int = 0
    net_sats: int = 0
    revenue_share_bps: int = 0
    provider_share_sats: int = 0
    customer_share_sats: int = 0
    fpps_rate: Decimal | None = None
    hashrate_hs: Decimal | None = None
    paid_to: str = ""
    payout_address: str = ""
    tx_hash: str = ""
    memo: str = ""
    amount_sats: int = 0


@dataclass
class Fee:
    """A fee or credit line; field names are StatementFee's."""

    position: int
    kind: str
    version_id: int
    start: date
    end: date
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    currency: str
    amount: Decimal
    amount_sats: int
    coverage_bps: int | None = None
    exact_amount: Fraction = field(default=Fraction(0), repr=False)
    # Priced (partly) by the contract's fallback: closing the month needs the staff member's confirmation.
    estimated: bool = field(default=False, repr=False)


@dataclass
class StatementData:
    provider_id: int
    customer_id: int
    customer_name: str
    period: date
    period_end: date
    lines: list[Line]
    fees: list[Fee]
    gross_sats: int = 0
    pool_fee_sats: int = 0
    net_sats: int = 0
    provider_share_sats: int = 0
    customer_share_sats: int = 0
    held_by_provider_sats: int = 0
    held_by_customer_sats: int = 0
    hosting_fee_sats: int = 0
    sla_credit_sats: int = 0
    adjustments_sats: int = 0
    customer_net_sats: int = 0
    pending_sats: int = 0
    sla: list[dict] = field(default_factory=list)
    rates: list[dict] = field(default_factory=list)
    is_closed: bool = False
    closed_at: datetime | None = None
    content_hash: str = ""
    statement_id: int | None = None

    @property
    def billed_lines(self) -> list[Line]:
        return [ln for ln in self.lines if ln.kind in (LineKind.REWARD, LineKind.LATE_REWARD)]

    @property
    def pending_lines(self) -> list[Line]:
        return [ln for ln in self.lines if ln.kind == LineKind.PENDING]

    @property
    def adjustment_lines(self) -> list[Line]:
        return [ln for ln in self.lines if ln.kind == LineKind.ADJUSTMENT]

    @property
    def short_coverage(self) -> list[tuple[str, str]]:
        """(line, coverage %) of each usage-based line below its contract's threshold: a close must confirm them."""
        out = [(f"power fee {f.start.isoformat()}–{f.end.isoformat()}", f"{Decimal(f.coverage_bps or 0) / 100:.2f}")
               for f in self.fees if f.estimated]
        out += [(f"uptime SLA {s['start']}–{s['end']}", s["coverage_pct"]) for s in self.sla
                if s.get("coverage_short")]
        return out

    @property
    def is_empty(self) -> bool:
        return not self.lines and not self.fees
