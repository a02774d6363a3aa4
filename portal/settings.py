"""Settings for the hosting-provider mining portal.

Everything comes from the environment through one `env` object. With nothing set the portal runs on an
embedded default (SQLite and a filesystem broker under `var/`) so a newcomer needs nothing but Python;
`DJANGO_ENV=production` refuses to start without real secrets and passes `check --deploy` cleanly.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is a convenience for development only; production reads the real environment.
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

# Where the embedded mode keeps its SQLite file, broker folders and nonce locks.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be development, test or production, not {DJANGO_ENV!r}")
IS_PRODUCTION = DJANGO_ENV == "production"

# Development-only fallbacks. They are public, so production refuses them (see the checks below).
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

if IS_PRODUCTION:
    _problems = []
    if len(SECRET_KEY) < 50 or SECRET_KEY == _DEV_SECRET_KEY or len(set(SECRET_KEY)) < 5:
        _problems.append("SECRET_KEY must be set to a random value of at least 50 characters")
    if not FIELD_ENCRYPTION_KEYS or _DEV_FIELD_KEY in FIELD_ENCRYPTION_KEYS:
        _problems.append("FIELD_ENCRYPTION_KEYS must list at least one Fernet key of your own")
    if not ALLOWED_HOSTS:
        _problems.append("ALLOWED_HOSTS must name the host(s) the portal is served on")
    if DEBUG:
        _problems.append("DEBUG must be off")
    if "DATABASE_URL" not in env:
        _problems.append("DATABASE_URL must point at PostgreSQL")
    if _problems:
        raise ImproperlyConfigured("Refusing to start in production: " + "; ".join(_problems))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "django_celery_beat",
    "tenants",
    "mining",
    "billing",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

if IS_PRODUCTION:
    # gunicorn serves the collected static files itself; runserver does it in development.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

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
    DATABASES["default"].setdefault("TEST", {})["NAME"] = env.str("TEST_DATABASE_NAME", default="test_portal")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if DJANGO_ENV == "test":
    # Tests create many users; the strong hasher would dominate their run time, and proves nothing there.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
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

# Redis: cache, the shared upstream rate budget and the production broker. Empty means embedded mode.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery. The embedded default is kombu's filesystem transport, so `make run` needs no broker server.
_broker_dir = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem"):
    for _sub in ("in", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "control_folder": str(_broker_dir / "control"),
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
else:
    # Tasks are acked late; the visibility timeout must exceed every task's hard time limit.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# E-mail: console in development, locmem in tests, a real SMTP URL in production.
EMAIL_CONFIG = env.email_url(
    "EMAIL_URL",
    default="memorymail://" if DJANGO_ENV == "test" else ("smtp://localhost:25" if IS_PRODUCTION else "consolemail://"),
)
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portal@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}

# Upstream pool client.
WHITEBIT_TIMEOUT_S = env.float("WHITEBIT_TIMEOUT_S", default=10.0)
WHITEBIT_RATE_BUDGET_FRACTION = env.float("WHITEBIT_RATE_BUDGET_FRACTION", default=0.5)
WHITEBIT_RATE_LIMIT = env.int("WHITEBIT_RATE_LIMIT", default=1000)  # the pool's: requests per window per endpoint
WHITEBIT_RATE_WINDOW_S = env.float("WHITEBIT_RATE_WINDOW_S", default=10.0)
WHITEBIT_REDIS_PREFIX = env.str("WHITEBIT_REDIS_PREFIX", default="whitebit:")
WHITEBIT_MAX_RETRIES = env.int("WHITEBIT_MAX_RETRIES", default=4)
WHITEBIT_BACKOFF_BASE_S = env.float("WHITEBIT_BACKOFF_BASE_S", default=1.0)
WHITEBIT_BACKOFF_CAP_S = env.float("WHITEBIT_BACKOFF_CAP_S", default=30.0)

# Sync cadence and windows (docs/SYNC.md explains the numbers and the rate-budget math).
MINING_SYNC_INTERVAL_S = env.int("MINING_SYNC_INTERVAL_S", default=300)
MINING_SYNC_LEASE_S = env.int("MINING_SYNC_LEASE_S", default=600)  # > the task's hard time limit
MINING_SYNC_TIME_LIMIT_S = env.int("MINING_SYNC_TIME_LIMIT_S", default=540)
MINING_HASHRATE_OVERLAP_S = env.int("MINING_HASHRATE_OVERLAP_S", default=1800)
MINING_REWARDS_OVERLAP_DAYS = env.int("MINING_REWARDS_OVERLAP_DAYS", default=3)
MINING_WORKER_HASHRATE_EVERY_S = env.int("MINING_WORKER_HASHRATE_EVERY_S", default=3600)
# Per-worker history fetched on an account's first sync (account-level history goes back 30 days regardless).
MINING_WORKER_HASHRATE_BACKFILL_H = env.int("MINING_WORKER_HASHRATE_BACKFILL_H", default=24)
MINING_RETENTION_5M_DAYS = env.int("MINING_RETENTION_5M_DAYS", default=35)
MINING_RETENTION_1H_DAYS = env.int("MINING_RETENTION_1H_DAYS", default=400)

# Beat's schedule. django-celery-beat copies it into its tables at start; edit intervals there or here.
CELERY_BEAT_SCHEDULE = {
    "mining-sync-fanout": {"task": "mining.tasks.sync_fanout", "schedule": float(MINING_SYNC_INTERVAL_S)},
    "mining-hashrate-retention": {"task": "mining.tasks.hashrate_retention", "schedule": 86400.0},
}

# --- billing (issue 8): close last month on BILLING_CLOSE_DAY at 02:00 UTC (late rewards have settled by then) ---
BILLING_CLOSE_DAY = env.int("BILLING_CLOSE_DAY", default=3)
BILLING_CLOSE_HOUR_UTC = env.int("BILLING_CLOSE_HOUR_UTC", default=2)
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE["billing-close-previous-month"] = {
    "task": "billing.tasks.billing_close_previous_month",
    "schedule": crontab(minute=0, hour=BILLING_CLOSE_HOUR_UTC, day_of_month=BILLING_CLOSE_DAY),
}
# --- end billing ---

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
