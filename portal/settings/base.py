"""The environment, secrets, installed apps, the middleware (declared once, in order), templates, database, static
files, cache and logging: what every process needs before any topic.

A local .env is read in development only: production and the test suite read the real environment, so a stray
.env (in a checkout, or baked into an image) can never feed secrets or settings to them.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from portal.hosts import ProviderDomainHosts

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if os.environ.get("DJANGO_ENV", "development") == "development" and (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")
    if os.environ.get("DJANGO_ENV", "development") != "development":
        raise ImproperlyConfigured("DJANGO_ENV must be set in the real environment, not in .env")

# Where the embedded mode keeps its SQLite file, broker folders and nonce locks.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be development, test or production, not {DJANGO_ENV!r}")
IS_PRODUCTION = DJANGO_ENV == "production"

# Development-only fallbacks. They are public, so production refuses them (portal/settings/__init__.py).
_DEV_SECRET_KEY = "dev-insecure-secret-key-do-not-use-in-production-0123456789abcdef"
_DEV_FIELD_KEY = "ZGV2LW9ubHktZmllbGQta2V5LW5vdC1mb3ItcHJvZCE="  # base64 of 32 bytes, dev only

SECRET_KEY = env.str("SECRET_KEY", default="" if IS_PRODUCTION else _DEV_SECRET_KEY)
FIELD_ENCRYPTION_KEYS: list[str] = env.list(
    "FIELD_ENCRYPTION_KEYS", default=[] if IS_PRODUCTION else [_DEV_FIELD_KEY]
)
DEBUG = env.bool("DEBUG", default=DJANGO_ENV == "development")
ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=[] if IS_PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
# White label (issue 21): providers' custom domains are accepted too, read from the database (portal/hosts.py).
ALLOWED_HOSTS = ProviderDomainHosts(ALLOWED_HOSTS)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",  # REST API: OpenAPI schema
    "drf_spectacular_sidecar",  # REST API: Swagger UI / Redoc assets served from our static files
    "django_celery_beat",
    "django_htmx",  # request.htmx for the fragments htmx swaps in
    "tenants",
    "mining",
    "billing",
    "portal",
    "django_otp",  # accounts and access (settings/access.py): second factor
    "django_otp.plugins.otp_totp",
    "axes",  # lockout by (user, address)
    "csp",  # Content-Security-Policy (settings/http.py, portal/security_headers.py)
]

# The whole chain, in the order a request meets it.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # gunicorn serves the collected static files itself in production (runserver does it in development); static
    # files are answered before the headers below, so they stay cacheable.
    *(["whitenoise.middleware.WhiteNoiseMiddleware"] if IS_PRODUCTION else []),
    "csp.middleware.CSPMiddleware",
    "portal.security_headers.SecurityHeadersMiddleware",  # Permissions-Policy, no-store
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "portal.access_middleware.SessionSecurityMiddleware",  # idle/absolute timeout, sign out everywhere
    "portal.access_middleware.TwoFactorGateMiddleware",  # staff: enrolled and verified before any page
    "portal.middleware.AuditContextMiddleware",
    "portal.timezones.UserTimezoneMiddleware",  # each user's own time zone for the request
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.errors.UpstreamErrorMiddleware",  # a pool error no page handled: its words on the page, not a 500
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: turns a lockout into our page
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.brand",  # the provider's white label (issue 21)
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Embedded mode: web, worker and beat share one file; wait for a lock instead of failing at once.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A database that does not answer fails a request (and /readyz) in seconds instead of hanging a worker.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT_S",
                                                                                          default=5))
    # The test database follows the database's own name, so two checkouts testing against different databases on
    # one server never drop each other's test databases.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = env.str(
        "TEST_DATABASE_NAME", default=f"test_{DATABASES['default']['NAME']}")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if IS_PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Redis: cache, the shared upstream rate budget and the production broker (settings/queues.py). Empty means
# embedded mode.
REDIS_URL = env.str("REDIS_URL", default="")
REDIS_SOCKET_TIMEOUT_S = env.float("REDIS_SOCKET_TIMEOUT_S", default=5.0)  # no Redis call may hang a sync
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
