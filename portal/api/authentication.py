"""Who is calling: a bearer API token, or a signed-in portal user (session, CSRF enforced by DRF)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from tenants.tokens import TokenRejected, api_token_authenticate


class TokenCaller:
    """request.user for a token: authenticated, no Django user behind it (the token is the actor)."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    pk = None

    def __init__(self, token) -> None:
        self.token = token

    def __str__(self) -> str:
        return f"token {self.token.prefix}"


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer wbp_…`. Unknown, expired and revoked tokens are 401 with the reason."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0].lower() != self.keyword.lower():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send `Authorization: Bearer <token>` with exactly one token.")
        try:
            token = api_token_authenticate(parts[1])
        except TokenRejected as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from exc
        return TokenCaller(token), token

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The portal's own pages: the signed-in session, with CSRF checked on every unsafe method."""


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "portal.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An API token: `wbp_<prefix>_<secret>`."}


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "portal.api.authentication.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid",
                "description": "The portal's session; unsafe methods need the X-CSRFToken header."}
