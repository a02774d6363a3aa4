"""Staff statements: months (open to date / closed with their hash), a month's statements, one customer's
statement, closing a month, downloads, and month exports built in the background with their progress
(`_export_job.html` is also served alone, polled by htmx every second while the job runs)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseNotAllowed, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from billing.exports import downloads
from billing.exports.jobs import export_job_is_stale, export_jobs_expire
from billing.models import ExportJob, ExportKind
from billing.periods import previous_month
from billing.selectors import exports as export_selectors
from billing.selectors import months as month_selectors
from billing.selectors.data_health import data_health as health
from billing.selectors.months import billing_month_is_closed
from billing.selectors.statements import statement_get
from billing.services.closing import billing_month_close
from billing.services.exports import export_job_file, export_job_retry, export_job_start
from portal.views.access_common import scope_or_404
from portal.views.customer.common import page_of
from portal.views.statement_downloads import period_or_404, statement_download
from tenants import selectors
from tenants.access import Capability, get_in_scope
from tenants.models import Customer

ROWS_PER_PAGE = 50


def _base(request: HttpRequest, provider_slug: str) -> dict:
    scope = scope_or_404(request, provider_slug=provider_slug)
    return {"scope": scope, "provider": selectors.provider_get(scope=scope),
            "can_close": scope.can(Capability.MANAGE_BILLING)}


@login_required
def statements(request: HttpRequest, provider_slug: str) -> HttpResponse:
    ctx = _base(request, provider_slug)
    ctx["months"] = month_selectors.billing_months_overview(scope=ctx["scope"], today=timezone.now().date())
    return render(request, "portal/staff/billing/statements.html", ctx)


@login_required
def data_health(request: HttpRequest, provider_slug: str) -> HttpResponse:
    """Per account, this month's and last month's hashrate coverage and gaps (what billing will price)."""

    ctx = _base(request, provider_slug)
    today = timezone.now().date()
    periods = [previous_month(today), today.replace(day=1)]
    ctx.update({"periods": periods, "accounts": health(scope=ctx["scope"], periods=periods, today=today)})
    return render(request, "portal/staff/billing/data_health.html", ctx)


@login_required
def statement_month(request: HttpRequest, provider_slug: str, period: str) -> HttpResponse:
    ctx = _base(request, provider_slug)
    scope, month = ctx["scope"], period_or_404(period)
    today = timezone.now().date()
    closed = billing_month_is_closed(scope=scope, period=month)
    if closed:
        page = page_of(month_selectors.month_statements_closed(scope=scope, period=month), request, ROWS_PER_PAGE)
        rows = list(page)
        ctx["totals"] = month_selectors.month_totals(scope=scope, period=month)
        ctx["overview"] = next((m for m in month_selectors.billing_months_overview(scope=scope, today=today)
                                if m.period == month), None)
        latest = export_selectors.export_jobs_latest(scope=scope, period=month)
        ctx["jobs"] = [(kind, label, latest.get(kind)) for kind, label in ExportKind.choices]
    else:
        page = page_of(month_selectors.month_customers(scope=scope), request, ROWS_PER_PAGE)
        try:
            rows = month_selectors.month_statements_draft(scope=scope, period=month, today=today,
                                                        customers=list(page))
        except ValidationError as exc:  # e.g. fiat fees without the month's BTC price: say so, in words
            rows, ctx["draft_error"] = [], " ".join(exc.messages)
    ctx["short_coverage"] = [] if closed else [(d.customer_name, line, pct) for d in rows
                                                for line, pct in d.short_coverage]
    # The whole month's accounts, not only this page's customers: the close refuses for any of them, so the
    # warning and the confirmation box must not depend on which page is shown.
    ctx["short_accounts"] = [] if closed or month > today else month_selectors.month_accounts_short(
        scope=scope, period=month, today=today)
    ctx.update({"period": month, "closed": closed, "page": page, "rows": rows,
                "is_over": month < today.replace(day=1), "is_future": month > today})
    return render(request, "portal/staff/billing/statement_month.html", ctx)


@login_required
def statement_month_close(request: HttpRequest, provider_slug: str, period: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    month = period_or_404(period)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        result = billing_month_close(scope=scope, period=month, now=timezone.now(),
                                     accept_estimates=request.POST.get("accept_estimates") == "yes")
    except ValidationError as exc:
        messages.error(request, f"{month:%B %Y} was not closed: " + " ".join(exc.messages))
    else:
        if result.already_closed:
            messages.info(request, f"{month:%B %Y} was already closed; nothing changed ({result.statements} "
                                   "statements).")
        else:
            messages.success(request, f"Closed {month:%B %Y}: {result.statements} statements frozen.")
    return redirect("staff:statement_month", provider_slug=provider_slug, period=period)


def _month_csv(request: HttpRequest, provider_slug: str, period: str, *, detail: bool) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    month = period_or_404(period)
    try:
        stream = downloads.month_csv_stream(scope=scope, period=month, detail=detail)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("staff:statement_month", provider_slug=provider_slug, period=period)
    response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="billing-{month:%Y-%m}-{"detail" if detail else "summary"}.csv"')
    return response


@login_required
def statement_month_csv(request: HttpRequest, provider_slug: str, period: str) -> HttpResponse:
    return _month_csv(request, provider_slug, period, detail=False)


@login_required
def statement_month_detail_csv(request: HttpRequest, provider_slug: str, period: str) -> HttpResponse:
    return _month_csv(request, provider_slug, period, detail=True)


def _customer(request: HttpRequest, provider_slug: str, customer_slug: str) -> tuple[dict, Customer]:
    ctx = _base(request, provider_slug)
    return ctx, get_in_scope(Customer, ctx["scope"], slug=customer_slug)


@login_required
def statement_customer(request: HttpRequest, provider_slug: str, period: str, customer_slug: str) -> HttpResponse:
    ctx, customer = _customer(request, provider_slug, customer_slug)
    month = period_or_404(period)
    try:
        data = statement_get(scope=ctx["scope"], customer_id=customer.pk, period=month,
                             today=timezone.now().date())
    except ValidationError as exc:
        data, ctx["draft_error"] = None, " ".join(exc.messages)
    ctx.update({"customer": customer, "period": month, "statement": data, "provider_name": ctx["provider"].name})
    return render(request, "portal/staff/billing/statement_customer.html", ctx)


def _customer_download(request, provider_slug: str, period: str, customer_slug: str, fmt: str) -> HttpResponse:
    ctx, customer = _customer(request, provider_slug, customer_slug)
    back = reverse("staff:statement_customer", args=[provider_slug, period, customer_slug])
    return statement_download(request, scope=ctx["scope"], customer=customer, period=period_or_404(period),
                              fmt=fmt, back=back)


@login_required
def statement_customer_pdf(request: HttpRequest, provider_slug: str, period: str, customer_slug: str):
    return _customer_download(request, provider_slug, period, customer_slug, "pdf")


@login_required
def statement_customer_csv(request: HttpRequest, provider_slug: str, period: str, customer_slug: str):
    return _customer_download(request, provider_slug, period, customer_slug, "csv")


def _job_fragment(request: HttpRequest, ctx: dict, job: ExportJob, kind_label: str, error: str = "") -> HttpResponse:
    ctx.update({"job": job, "kind": job.kind, "label": kind_label, "period": job.period, "job_error": error})
    return render(request, "portal/staff/billing/_export_job.html", ctx)


@login_required
def export_job_start_view(request: HttpRequest, provider_slug: str, period: str) -> HttpResponse:
    ctx = _base(request, provider_slug)
    month = period_or_404(period)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    kind = request.POST.get("kind", "")
    try:
        job, _ = export_job_start(scope=ctx["scope"], period=month, kind=kind, now=timezone.now())
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("staff:statement_month", provider_slug=provider_slug, period=period)
    if request.htmx:
        return _job_fragment(request, ctx, job, ExportKind(job.kind).label)
    return redirect("staff:statement_month", provider_slug=provider_slug, period=period)


@login_required
def export_job(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    """The job's progress (the fragment the page polls); a job whose worker died is failed here with the reason."""
    ctx = _base(request, provider_slug)
    job = get_in_scope(ExportJob, ctx["scope"], pk=pk)
    now = timezone.now()
    if export_job_is_stale(job, now=now) and export_jobs_expire(now=now, provider_id=job.provider_id):
        job.refresh_from_db()
    return _job_fragment(request, ctx, job, ExportKind(job.kind).label)


@login_required
def export_job_retry_view(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    ctx = _base(request, provider_slug)
    old = get_in_scope(ExportJob, ctx["scope"], pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        job, _ = export_job_retry(scope=ctx["scope"], job_id=old.pk, now=timezone.now())
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("staff:statement_month", provider_slug=provider_slug, period=f"{old.period:%Y-%m}")
    if request.htmx:
        return _job_fragment(request, ctx, job, ExportKind(job.kind).label)
    return redirect("staff:statement_month", provider_slug=provider_slug, period=f"{old.period:%Y-%m}")


@login_required
def export_job_download(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    job = get_in_scope(ExportJob, scope, pk=pk)
    try:
        found = export_job_file(scope=scope, job_id=job.pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("staff:statement_month", provider_slug=provider_slug, period=f"{job.period:%Y-%m}")
    return FileResponse(found.path.open("rb"), as_attachment=True, filename=found.filename,
                        content_type=found.content_type)
