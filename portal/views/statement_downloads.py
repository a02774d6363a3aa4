"""Statement downloads the staff and customer pages share: one customer's closed statement as CSV or PDF.

Why here and not in each view: both audiences get the same files, hash-checked before the first byte by
`billing.exports.downloads.closed_statement_verified` (as the REST API does); a refusal comes back in words on
the statement's page instead of a half-sent file.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect

from billing.exports import downloads
from billing.periods import month_parse
from tenants.access import Scope


def period_or_404(value: str) -> date:
    """'YYYY-MM' from the URL; anything else is a page that does not exist."""
    try:
        return month_parse(value)
    except ValidationError as exc:
        raise Http404("No such month") from exc


def statement_download(request: HttpRequest, *, scope: Scope, customer, period: date, fmt: str,
                       back: str) -> HttpResponse:
    """The closed statement as `fmt` ("csv" streamed, or "pdf"); refused in words, back on `back`."""
    try:
        data = downloads.closed_statement_verified(scope=scope, customer_id=customer.pk, period=period)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    filename = f"statement-{customer.slug}-{period:%Y-%m}.{fmt}"
    if fmt == "csv":
        response: HttpResponse = StreamingHttpResponse(downloads.statement_csv_stream(data),
                                                       content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(downloads.statement_pdf(data, provider_name=downloads.provider_name(scope)),
                                content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
