"""What the customer self-service pages share: the scope from the URL and the page header's context."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import HttpRequest

from mining.selectors import workers as worker_selectors
from portal.views.access_common import scope_or_404
from tenants import selectors
from tenants.access import ScopeKind
from tenants.models import Customer

WORKERS_PER_PAGE = 100


def customer_context(request: HttpRequest, provider_slug: str, customer_slug: str) -> dict:
    """Scope (404 for anyone who is neither the customer's user nor its provider's staff), provider, customer."""
    scope = scope_or_404(request, provider_slug=provider_slug, customer_slug=customer_slug)
    customer = selectors.customer_get(scope=scope)
    if scope.kind == ScopeKind.CUSTOMER and customer.status == Customer.Status.SUSPENDED:
        raise PermissionDenied(f"{customer.name} is suspended by its hosting provider. Please contact them.")
    return {"scope": scope, "provider": customer.provider, "customer": customer}


def page_of(qs, request: HttpRequest, per_page: int = WORKERS_PER_PAGE) -> Page:
    """One page of a list; the page count comes from one COUNT, the rows from one LIMIT query."""
    return Paginator(qs, per_page).get_page(request.GET.get("page"))


def int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def unnamed_offline_rows(scope, params: dict, account_id: int | None = None) -> list:
    """The pool's unnamed offline workers as rows of their own on the workers tables, where the filters would show
    offline workers (labels are on named workers only)."""
    if params.get("status") not in ("", "offline") or params.get("label") is not None:
        return []
    return worker_selectors.unnamed_offline_list(scope=scope, search=params.get("q", ""), account_id=account_id)
