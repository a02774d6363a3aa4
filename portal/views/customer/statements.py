"""A customer's statements: the month to date (not final), past closed months, one statement, and the closed
statements' PDF and CSV. The month to date is not offered as a file: only a closed statement is a bill."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from billing.selectors.statements import statement_get, statement_list, statement_month_to_date
from portal.views.customer.common import customer_context, page_of
from portal.views.statement_downloads import period_or_404, statement_download


@login_required
def statements(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    ctx = customer_context(request, provider_slug, customer_slug)
    scope, customer = ctx["scope"], ctx["customer"]
    ctx.update({
        "mtd": statement_month_to_date(scope=scope, customer_id=customer.pk, today=timezone.now().date()),
        "page": page_of(statement_list(scope=scope.narrowed_to_customer(customer.pk)), request, per_page=24),
    })
    return render(request, "portal/customer/statements.html", ctx)


@login_required
def statement(request: HttpRequest, provider_slug: str, customer_slug: str, period: str) -> HttpResponse:
    ctx = customer_context(request, provider_slug, customer_slug)
    month = period_or_404(period)
    try:
        data = statement_get(scope=ctx["scope"], customer_id=ctx["customer"].pk, period=month,
                             today=timezone.now().date())
    except ValidationError as exc:
        raise Http404("The month to date cannot be computed yet") from exc
    if data is None:
        raise Http404("Nothing billed in this month")
    ctx.update({"statement": data, "period": month, "provider_name": ctx["provider"].name})
    return render(request, "portal/customer/statement.html", ctx)


def _download(request: HttpRequest, provider_slug: str, customer_slug: str, period: str, fmt: str) -> HttpResponse:
    ctx = customer_context(request, provider_slug, customer_slug)
    back = reverse("customer:statement", args=[provider_slug, customer_slug, period])
    return statement_download(request, scope=ctx["scope"], customer=ctx["customer"], period=period_or_404(period),
                              fmt=fmt, back=back)


@login_required
def statement_pdf(request: HttpRequest, provider_slug: str, customer_slug: str, period: str) -> HttpResponse:
    return _download(request, provider_slug, customer_slug, period, "pdf")


@login_required
def statement_csv(request: HttpRequest, provider_slug: str, customer_slug: str, period: str) -> HttpResponse:
    return _download(request, provider_slug, customer_slug, period, "csv")
