"""Request-wide context the services need without taking the request: the caller's address (and user agent) for
the audit log and the personal security trail."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from tenants.audit import audit_request_context


class AuditContextMiddleware:
    """Every audit entry written while a request runs carries the caller's address.

    REMOTE_ADDR only: the portal does not trust forwarding headers unless an operator configures a proxy.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with audit_request_context(ip_address=request.META.get("REMOTE_ADDR"),
                                   user_agent=request.META.get("HTTP_USER_AGENT", "")):
            return self.get_response(request)
