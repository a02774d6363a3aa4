"""Domain errors (tenants/errors.py) mapped to HTTP once for the API, in one format (HackSoft, Baserow codes).

Every error body is `{"error": {"type", "code", "message", "fields"?}}`: `fields` maps a field to its
messages, like the forms; upstream refusals and outages are said in a provider's words, with `retryable`.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from tenants.errors import UpstreamUnavailable
from tenants.idempotency import IdempotencyError


class WorkspaceRequired(exceptions.APIException):
    status_code = 400
    default_code = "workspace_required"
    default_detail = (
        "You belong to several workspaces: name one with the X-Provider header (and X-Customer for a customer)."
    )


def error_body(*, type_: str, code: str, message: str, fields: dict | None = None, **extra) -> dict:
    body = {"type": type_, "code": code, "message": message, **extra}
    if fields:
        body["fields"] = fields
    return {"error": body}


def _flatten(detail) -> dict[str, list[str]]:
    """DRF's nested detail → {"field": ["msg", ...]}, nested fields joined with dots (`items.0.name`)."""
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list) and value and not all(isinstance(v, str) for v in value):
            for i, sub in enumerate(value):
                walk(f"{prefix}.{i}" if prefix else str(i), sub)
        else:
            messages = value if isinstance(value, list) else [value]
            out.setdefault(prefix or "non_field_errors", []).extend(str(m) for m in messages)

    walk("", detail)
    return out


def api_exception_handler(exc, context):
    request = context.get("request")
    scope = getattr(context.get("view"), "scope", None)
    if isinstance(exc, DjangoValidationError):  # tenants.errors.Invalid and UpstreamRefused too
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        upstream = getattr(exc, "upstream", False)
        return Response(error_body(
            type_="upstream_refused" if upstream else "invalid_request",
            code="upstream_refused" if upstream else "invalid",
            message=" ".join(m for ms in fields.values() for m in ms),
            fields=fields,
        ), status=400)
    if isinstance(exc, IdempotencyError):
        return Response(error_body(type_="idempotency_error", code=exc.code, message=str(exc)), status=exc.status)
    if isinstance(exc, UpstreamUnavailable):  # every pool error (the WhiteBitError family) is one
        if exc.retryable:
            return Response(
                error_body(type_="upstream_unavailable", code=exc.error_code, message=exc.user_message,
                           retryable=True),
                status=503, headers={"Retry-After": "5"},
            )
        return Response(error_body(type_="upstream_error", code=exc.error_code, message=exc.user_message,
                                   retryable=False), status=502)
    if isinstance(exc, Http404):  # tenants.errors.NotFound too
        exc = exceptions.NotFound("No such object.")  # the same words for missing and someone else's
    elif isinstance(exc, PermissionDenied):  # tenants.errors.NotAllowed too
        message = str(exc) or "You may not do this."
        if scope is not None and scope.token_id is not None:
            message = f"This API token's scopes ({', '.join(scope.token_scopes)}) do not allow this."
        exc = exceptions.PermissionDenied(message)

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        response.data = error_body(type_="invalid_request", code="invalid",
                                   message=" ".join(m for ms in fields.values() for m in ms), fields=fields)
        return response
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    type_ = {
        status.HTTP_401_UNAUTHORIZED: "authentication_error",
        status.HTTP_403_FORBIDDEN: "permission_error",
        status.HTTP_404_NOT_FOUND: "not_found",
        status.HTTP_429_TOO_MANY_REQUESTS: "rate_limited",
    }.get(response.status_code, "invalid_request")
    if request is not None and response.status_code == 403 and getattr(request, "auth", None) is None \
            and not getattr(request.user, "is_authenticated", False):
        type_ = "authentication_error"
    response.data = error_body(type_=type_, code=str(code), message=str(detail))
    return response
