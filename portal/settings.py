"""Settings for the hosting-provider mining portal.

Everything comes from the environment through one `env` object. With nothing set the portal runs on an
embedded default (SQLite and a filesystem broker under `var/`) so a newcomer needs nothing but Python;
`DJANGO_ENV=production` refuses to start without real secrets and passes `check --deploy` cleanly.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is a convenience for development only: production and the test suite read the real environment,
# so a stray .env (in a checkout, or baked into an image) can never feed secrets or settings to them.
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

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",  # REST API (issue 11): OpenAPI schema
    "drf_spectacular_sidecar",  # REST API (issue 11): Swagger UI / Redoc assets served from our static files
    "django_celery_beat",
    "django_htmx",  # portal (issue 10): request.htmx for the fragments htmx swaps in
    "tenants",
    "mining",
    "billing",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.AuditContextMiddleware",
    "portal.timezones.UserTimezoneMiddleware",  # each user's own time zone for the request
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
    # A database that does not answer fails a request (and /readyz) in seconds instead of hanging a worker.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT_S",
                                                                                          default=5))
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

# Redis: cache, the shared upstream rate budget and the production broker. Empty means embedded mode.
REDIS_URL = env.str("REDIS_URL", default="")
REDIS_SOCKET_TIMEOUT_S = env.float("REDIS_SOCKET_TIMEOUT_S", default=5.0)  # no Redis call may hang a sync
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
# One beat at a time (a lock), and a schedule whose state survives restarts: portal/beat.py (issue 17, item 5).
CELERY_BEAT_SCHEDULER = "portal.beat:DurableScheduler"
CELERY_BEAT_SYNC_EVERY = 1  # write each entry's last_run_at right after it is sent, not every 3 minutes
BEAT_LOCK_KEY = env.str("BEAT_LOCK_KEY", default="portal:beat:lock")
BEAT_LOCK_TTL_S = env.int("BEAT_LOCK_TTL_S", default=60)  # a killed beat's lock frees after this; renewed at 1/3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# E-mail: console in development, locmem in tests, a real SMTP URL in production.
EMAIL_CONFIG = env.email_url(
    "EMAIL_URL",
    default="memorymail://" if DJANGO_ENV == "test" else ("smtp://localhost:25" if IS_PRODUCTION else "consolemail://"),
)
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portal@localhost")
# Seconds an SMTP connect or reply may take: a mail server that accepts and never answers must not hang a task.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
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
# A provider's upstream URL may point at a sandbox pool on loopback only outside production (tenants/validators.py).
WHITEBIT_SANDBOX_ALLOWED = not IS_PRODUCTION

# Sync cadence and windows (docs/SYNC.md explains the numbers and the rate-budget math).
MINING_SYNC_INTERVAL_S = env.int("MINING_SYNC_INTERVAL_S", default=300)
# --- the sync lease (issue 17 items 1-2, docs/SYNC.md "Lease"): short, renewed before each dataset ---
MINING_SYNC_LEASE_S = env.int("MINING_SYNC_LEASE_S", default=90)  # a dead sync lets go within this
MINING_SYNC_RELEASE_WAIT_S = env.float("MINING_SYNC_RELEASE_WAIT_S", default=30.0)  # retry the release this long
MINING_SYNC_WATCH_S = env.float("MINING_SYNC_WATCH_S", default=60.0)  # beat's own stale-sync check, in-process
WORKER_HEARTBEAT_FILE = env.str("WORKER_HEARTBEAT_FILE", default="")  # touched while the worker consumes
# --- end of the sync lease block ---
MINING_SYNC_TIME_LIMIT_S = env.int("MINING_SYNC_TIME_LIMIT_S", default=540)
MINING_HASHRATE_OVERLAP_S = env.int("MINING_HASHRATE_OVERLAP_S", default=1800)
MINING_REWARDS_OVERLAP_DAYS = env.int("MINING_REWARDS_OVERLAP_DAYS", default=3)
MINING_WORKER_HASHRATE_EVERY_S = env.int("MINING_WORKER_HASHRATE_EVERY_S", default=3600)
MINING_RETENTION_5M_DAYS = env.int("MINING_RETENTION_5M_DAYS", default=35)
MINING_RETENTION_1H_DAYS = env.int("MINING_RETENTION_1H_DAYS", default=400)
MINING_RETENTION_WORKER_1H_DAYS = env.int("MINING_RETENTION_WORKER_1H_DAYS", default=35)  # the pool keeps 7

# Beat's schedule. django-celery-beat copies it into its tables at start; edit intervals there or here.
CELERY_BEAT_SCHEDULE = {
    "mining-sync-fanout": {"task": "mining.tasks.sync_fanout", "schedule": float(MINING_SYNC_INTERVAL_S)},
    "mining-hashrate-retention": {"task": "mining.tasks.hashrate_retention", "schedule": 86400.0},
}

# --- E-mail outbox (tenants/email.py, docs/EMAIL.md) ---------------------------------------------------------------
# Every message is a row sent by a retried task; beat re-enqueues what a lost queue or a killed worker left behind.
# A message is retried until this long after it was queued, then failed and the provider told (an alert).
EMAIL_OUTBOX_GIVE_UP_AFTER_S = env.int("EMAIL_OUTBOX_GIVE_UP_AFTER_S", default=24 * 3600)
EMAIL_OUTBOX_FAILED_ALERT_DAYS = env.int("EMAIL_OUTBOX_FAILED_ALERT_DAYS", default=7)  # failures the alert counts
EMAIL_OUTBOX_BACKOFF_BASE_S = env.int("EMAIL_OUTBOX_BACKOFF_BASE_S", default=60)  # doubles per attempt
EMAIL_OUTBOX_BACKOFF_CAP_S = env.int("EMAIL_OUTBOX_BACKOFF_CAP_S", default=1800)  # < the broker's visibility timeout
EMAIL_OUTBOX_CLAIM_S = env.int("EMAIL_OUTBOX_CLAIM_S", default=300)  # a sender's lease; > the send task's hard limit
EMAIL_OUTBOX_SEND_TIMEOUT_S = env.int("EMAIL_OUTBOX_SEND_TIMEOUT_S", default=20)  # per SMTP call, unless EMAIL_TIMEOUT
EMAIL_OUTBOX_SWEEP_AFTER_S = env.int("EMAIL_OUTBOX_SWEEP_AFTER_S", default=300)  # queued this long past due: lost
EMAIL_OUTBOX_SWEEP_EVERY_S = env.int("EMAIL_OUTBOX_SWEEP_EVERY_S", default=120)
CELERY_BEAT_SCHEDULE["tenants-email-outbox-sweep"] = {
    "task": "tenants.tasks.email_outbox_sweep_task", "schedule": float(EMAIL_OUTBOX_SWEEP_EVERY_S),
}
CELERY_BEAT_SCHEDULE["mining-email-undelivered-alerts"] = {  # the provider is told when mail is given up
    "task": "mining.tasks.email_undelivered_alerts_task", "schedule": float(EMAIL_OUTBOX_SWEEP_EVERY_S),
}
# Mail runs on its own queue and worker processes (compose: `notify`), so a mail server that accepts and never
# answers holds those, never a sync (issue 17, item 4). The sweep stays on the default queue: it only enqueues.
CELERY_NOTIFY_QUEUE = env.str("CELERY_NOTIFY_QUEUE", default="notify")
CELERY_TASK_ROUTES = {
    "tenants.tasks.email_send_task": {"queue": CELERY_NOTIFY_QUEUE},
    "tenants.access_tasks.password_reset_send_task": {"queue": CELERY_NOTIFY_QUEUE},
    "mining.alert_tasks.alert_delivery_send_task": {"queue": CELERY_NOTIFY_QUEUE},  # issue 20
}
# --- alert channels and incidents (issue 20; docs/ALERTS.md) ---
ALERT_REPEAT_DEFAULT_S = env.int("ALERT_REPEAT_DEFAULT_S", default=3600)  # incidents without a rule (stale sync)
ALERT_TICK_EVERY_S = env.int("ALERT_TICK_EVERY_S", default=60)
ALERT_DELIVERY_TIMEOUT_S = env.float("ALERT_DELIVERY_TIMEOUT_S", default=10.0)
ALERT_DELIVERY_CLAIM_S = env.int("ALERT_DELIVERY_CLAIM_S", default=60)  # a killed worker's delivery is retaken after
ALERT_DELIVERY_MAX_ATTEMPTS = env.int("ALERT_DELIVERY_MAX_ATTEMPTS", default=8)
ALERT_DELIVERY_BACKOFF_BASE_S = env.int("ALERT_DELIVERY_BACKOFF_BASE_S", default=30)
ALERT_DELIVERY_BACKOFF_CAP_S = env.int("ALERT_DELIVERY_BACKOFF_CAP_S", default=1800)
ALERT_DELIVERY_SWEEP_AFTER_S = env.int("ALERT_DELIVERY_SWEEP_AFTER_S", default=120)
ALERT_CHANNEL_PAUSE_AFTER = env.int("ALERT_CHANNEL_PAUSE_AFTER", default=3)  # permanent failures in a row
ALERT_WEBHOOK_ALLOW_HTTP = env.bool("ALERT_WEBHOOK_ALLOW_HTTP", default=not IS_PRODUCTION)
ALERT_WEBHOOK_ALLOW_PRIVATE_HOSTS = env.bool("ALERT_WEBHOOK_ALLOW_PRIVATE_HOSTS", default=not IS_PRODUCTION)
TELEGRAM_API_BASE_URL = env.str("TELEGRAM_API_BASE_URL", default="https://api.telegram.org").rstrip("/")
TELEGRAM_POLL_EVERY_S = env.int("TELEGRAM_POLL_EVERY_S", default=15)
CELERY_BEAT_SCHEDULE["mining-incidents-tick"] = {"task": "mining.alert_tasks.incidents_tick_task",
                                                 "schedule": float(ALERT_TICK_EVERY_S)}
CELERY_BEAT_SCHEDULE["mining-telegram-poll"] = {"task": "mining.alert_tasks.telegram_poll_task",
                                                "schedule": float(TELEGRAM_POLL_EVERY_S)}
# --- end e-mail outbox ---------------------------------------------------------------------------------------------

# --- billing (issue 8): close last month on BILLING_CLOSE_DAY at 02:00 UTC (late rewards have settled by then) ---
BILLING_CLOSE_DAY = env.int("BILLING_CLOSE_DAY", default=3)
BILLING_CLOSE_HOUR_UTC = env.int("BILLING_CLOSE_HOUR_UTC", default=2)
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE["billing-close-previous-month"] = {
    "task": "billing.tasks.billing_close_previous_month",
    "schedule": crontab(minute=0, hour=BILLING_CLOSE_HOUR_UTC, day_of_month=BILLING_CLOSE_DAY),
}
# Month exports built by a task (billing/services/exports.py): where the files go, and the worker's lease.
BILLING_EXPORT_DIR = Path(env.str("BILLING_EXPORT_DIR", default=str(VAR_DIR / "exports")))
BILLING_EXPORT_LEASE_S = env.int("BILLING_EXPORT_LEASE_S", default=120)  # no heartbeat this long: the build died
CELERY_BEAT_SCHEDULE["billing-export-sweep"] = {"task": "billing.tasks.billing_export_sweep_task", "schedule": 60.0}
# Held payout changes (issue 15, mining/services/payouts.py): the sweep sends each change whose hold ended; a sender's
# lease outlives its task's hard limit (the pool client's own retries included).
MINING_PAYOUT_LEASE_S = env.int("MINING_PAYOUT_LEASE_S", default=300)
CELERY_BEAT_SCHEDULE["billing-payout-changes-sweep"] = {"task": "billing.tasks.payout_changes_sweep_task",
                                                        "schedule": 60.0}
# --- end billing ---

# --- retention (issue 17): what is pruned after how long (docs/OPERATIONS.md "Retention"); beat runs it daily ---
RETENTION_OUTBOX_SENT_DAYS = env.int("RETENTION_OUTBOX_SENT_DAYS", default=90)
RETENTION_OUTBOX_FAILED_DAYS = env.int("RETENTION_OUTBOX_FAILED_DAYS", default=180)
RETENTION_IDEMPOTENCY_DAYS = env.int("RETENTION_IDEMPOTENCY_DAYS", default=30)
RETENTION_LOGIN_ATTEMPTS_DAYS = env.int("RETENTION_LOGIN_ATTEMPTS_DAYS", default=30)
RETENTION_EXPORT_DAYS = env.int("RETENTION_EXPORT_DAYS", default=90)
RETENTION_AUDIT_ARCHIVE_AFTER_DAYS = env.int("RETENTION_AUDIT_ARCHIVE_AFTER_DAYS", default=400)
RETENTION_AUDIT_ARCHIVE_DIR = Path(env.str("RETENTION_AUDIT_ARCHIVE_DIR", default=str(VAR_DIR / "archive" / "audit")))
CELERY_BEAT_SCHEDULE["tenants-platform-retention"] = {
    "task": "tenants.tasks.platform_retention_task", "schedule": crontab(minute=30, hour=3),
}
CELERY_BEAT_SCHEDULE["billing-export-retention"] = {
    "task": "billing.tasks.billing_export_retention_task", "schedule": crontab(minute=40, hour=3),
}
# --- end retention ---

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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Accounts and access (issue 9): second factor, lockout, sessions, invitations ---------------------------------
INSTALLED_APPS += ["django_otp", "django_otp.plugins.otp_totp", "axes"]
_auth_mw = MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1
MIDDLEWARE[_auth_mw:_auth_mw] = [
    "django_otp.middleware.OTPMiddleware",
    "portal.access_middleware.SessionSecurityMiddleware",  # idle/absolute timeout, sign out everywhere
    "portal.access_middleware.TwoFactorGateMiddleware",  # staff: enrolled and verified before any page
]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last, as django-axes asks: turns a lockout into our page
AUTHENTICATION_BACKENDS = [
    "tenants.auth_backends.LockoutBackend",  # django-axes: refuses a locked (user, address) pair before the password
    "django.contrib.auth.backends.ModelBackend",
]
# Lockout by the (user, address) pair only: an attacker elsewhere cannot lock the victim out. Attempts are rows in
# the database (no Redis needed, so it also works in the embedded default).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
import datetime as _dt  # noqa: E402

AXES_COOLOFF_TIME = _dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "tenants.services.lockout.lockout_response"  # says how long and until when
AXES_HTTP_RESPONSE_CODE = 429
AXES_USERNAME_CALLABLE = "tenants.services.lockout.lockout_username"
AXES_CLIENT_IP_CALLABLE = "tenants.services.lockout.lockout_client_ip"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_VERBOSE = False
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Mining portal")
OTP_TOTP_THROTTLE_FACTOR = 1
# Sessions: an idle limit by kind of user, an absolute limit for everyone, the cookie's own life no longer.
ACCESS_STAFF_IDLE_TIMEOUT_S = env.int("ACCESS_STAFF_IDLE_TIMEOUT_S", default=30 * 60)
ACCESS_CUSTOMER_IDLE_TIMEOUT_S = env.int("ACCESS_CUSTOMER_IDLE_TIMEOUT_S", default=60 * 60)
ACCESS_ABSOLUTE_TIMEOUT_S = env.int("ACCESS_ABSOLUTE_TIMEOUT_S", default=12 * 3600)
SESSION_COOKIE_AGE = ACCESS_ABSOLUTE_TIMEOUT_S
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
ACCESS_INVITATION_TTL_DAYS = env.int("ACCESS_INVITATION_TTL_DAYS", default=7)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)  # seconds a reset link stays valid
ACCESS_RECOVERY_CODE_COUNT = 10
# Links in e-mails are built from this, never from the request's Host header (no reset-link poisoning).
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
AUTH_PASSWORD_VALIDATORS[1]["OPTIONS"] = {"min_length": 12}  # ASVS 2.1.1

# ---------------------------------------------------------------------------------------------- REST API (issue 11)
# The API's views set their own authentication (bearer token, then session with CSRF), permissions, pagination
# and filters in portal/api/base.py; these are the project-wide hooks DRF only reads from settings.
REST_FRAMEWORK.update({
    "EXCEPTION_HANDLER": "portal.api.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "portal.api.schema.ApiAutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
})
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="600/min")  # per token (or signed-in user)
API_IDEMPOTENCY_STALE_S = env.int("API_IDEMPOTENCY_STALE_S", default=300)  # a `running` key older than this died
API_PAGE_SIZE = 50
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
    "ENUM_NAME_OVERRIDES": {"PayoutDestinationEnum": "mining.models.PayoutDestination"},
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# --- Security headers (issue 15): CSP (django-csp), Permissions-Policy, no-store; portal/security_headers.py ---
from portal.security_headers import CONTENT_SECURITY_POLICY  # noqa: E402,F401

INSTALLED_APPS += ["csp"]
_static_mw = "whitenoise.middleware.WhiteNoiseMiddleware"  # static files answered before: they stay cacheable
_headers_at = MIDDLEWARE.index(_static_mw if _static_mw in MIDDLEWARE else MIDDLEWARE[0]) + 1
MIDDLEWARE[_headers_at:_headers_at] = ["csp.middleware.CSPMiddleware",
                                       "portal.security_headers.SecurityHeadersMiddleware"]
SPECTACULAR_SETTINGS["SWAGGER_UI_SETTINGS"] = {"deepLinking": True, "validatorUrl": None}  # no badge from elsewhere

# Production refuses to start on anything that would fail open or late (portal/production.py says why).
if IS_PRODUCTION:
    from portal.production import production_problems

    _problems = production_problems(
        secret_key=SECRET_KEY,
        dev_secret_key=_DEV_SECRET_KEY,
        field_keys=FIELD_ENCRYPTION_KEYS,
        dev_field_key=_DEV_FIELD_KEY,
        allowed_hosts=ALLOWED_HOSTS,
        debug=DEBUG,
        database_url_set="DATABASE_URL" in env,
        database_engine=DATABASES["default"]["ENGINE"],
        redis_url=REDIS_URL,
        broker_url=CELERY_BROKER_URL,
        sync_time_limit_s=MINING_SYNC_TIME_LIMIT_S,
        sync_lease_s=MINING_SYNC_LEASE_S,
        visibility_timeout_s=CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout"),
    )
    if _problems:
        raise ImproperlyConfigured("Refusing to start in production: " + "; ".join(_problems))
