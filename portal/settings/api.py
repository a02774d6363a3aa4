"""The REST API: DRF's project-wide hooks, throttling, idempotency, pages, and the OpenAPI schema.

The API's views set their own authentication (bearer token, then session with CSRF), permissions, pagination and
filters in portal/api/base.py; these are the hooks DRF only reads from settings.
"""

from __future__ import annotations

from portal.settings.base import env

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "portal.api.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "portal.api.schema.ApiAutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="600/min")  # per token (or signed-in user)
API_IDEMPOTENCY_STALE_S = env.int("API_IDEMPOTENCY_STALE_S", default=300)  # a `running` key older than this died
API_PAGE_SIZE = 50
# Share links (issue 21): views of the public share pages per client address and minute, counted in the cache
# (Redis in every real deployment, so all web processes share one count).
SHARE_PAGE_RATE_PER_MINUTE = env.int("SHARE_PAGE_RATE_PER_MINUTE", default=60)
API_MAX_PAGE_SIZE = 200
SPECTACULAR_SETTINGS = {
    "TITLE": "Mining portal API",
    "DESCRIPTION": (
        "The hosting-provider portal's REST API. Authenticate with `Authorization: Bearer <token>` "
        "(tokens from `manage.py api_token_create` or the portal). Calls that write to the pool need an "
        "`Idempotency-Key` header. See docs/API.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PayoutDestinationEnum": "mining.models.PayoutDestination",
        "InvoiceKindEnum": "billing.models.invoices.InvoiceKind",
        "InvoiceLineKindEnum": "billing.models.invoices.InvoiceLineKind",
        "AlertKindEnum": "mining.models.AlertKind",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},  # no badge from elsewhere (CSP)
}
