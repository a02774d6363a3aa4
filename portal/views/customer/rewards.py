"""Rewards: the table, and the same rows as a CSV streamed to the browser (exact 8-place BTC and satoshis)."""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from billing import money
from mining.models import RewardStatus
from mining.selectors import rewards as reward_selectors
from portal.views.customer.common import customer_context, page_of
from tenants.exports_safety import safe_csv_writer

CSV_COLUMNS = ["date", "account", "status", "gross_btc", "fee_btc", "net_btc", "gross_sats", "fee_sats", "net_sats",
               "paid_to", "payout_address", "tx_hash", "paid_at_utc"]


@login_required
def rewards(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    ctx = customer_context(request, provider_slug, customer_slug)
    status = request.GET.get("status", "")
    qs = reward_selectors.reward_list_for_page(scope=ctx["scope"], status=status)
    ctx.update({"page": page_of(qs, request, per_page=60), "status": status, "statuses": RewardStatus.choices})
    return render(request, "portal/customer/rewards.html", ctx)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(qs) -> Iterator[str]:
    writer = safe_csv_writer(_Echo())  # account names are typed by people: every text cell inert
    yield writer.writerow(CSV_COLUMNS)
    for r in qs.iterator(chunk_size=500):
        yield writer.writerow([
            r.date.isoformat(), r.account.name, r.get_status_display(), money.btc_str(r.total_reward_sats),
            money.btc_str(r.fee_sats), money.btc_str(r.reward_sats), r.total_reward_sats, r.fee_sats, r.reward_sats,
            r.get_payout_destination_display(), r.payout_address, r.payout_tx_hash,
            r.payout_at.isoformat() if r.payout_at else "",
        ])


@login_required
def rewards_csv(request: HttpRequest, provider_slug: str, customer_slug: str) -> StreamingHttpResponse:
    ctx = customer_context(request, provider_slug, customer_slug)
    qs = reward_selectors.reward_list_for_page(scope=ctx["scope"], status=request.GET.get("status", ""))
    response = StreamingHttpResponse(_csv_rows(qs), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rewards-{ctx["customer"].slug}.csv"'
    return response
