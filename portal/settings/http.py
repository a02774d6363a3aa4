"""HTTP hardening: HTTPS behind a TLS proxy, HSTS, secure cookies, and the security headers (CSP by django-csp,
Permissions-Policy, no-store; portal/security_headers.py). Their middleware sits in `base.MIDDLEWARE`."""

from __future__ import annotations

from portal.security_headers import CONTENT_SECURITY_POLICY  # noqa: F401  (django-csp reads it from settings)
from portal.settings.base import ALLOWED_HOSTS, IS_PRODUCTION, env

# Trust X-Forwarded-Proto only when the operator says a TLS proxy sits in front: compose publishes gunicorn
# directly, where any client could send the header and pass for HTTPS.
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None

if IS_PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[f"https://{h}" for h in ALLOWED_HOSTS])
