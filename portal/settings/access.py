"""Accounts and access: passwords, sign-in with a second factor, lockout, sessions, invitations, reset links."""

from __future__ import annotations

import datetime as _dt

from portal.settings.base import DJANGO_ENV, env

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},  # ASVS 2.1.1
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if DJANGO_ENV == "test":
    # Tests create many users; the strong hasher would dominate their run time, and proves nothing there.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

AUTHENTICATION_BACKENDS = [
    "tenants.auth_backends.LockoutBackend",  # django-axes: refuses a locked (user, address) pair before the password
    "django.contrib.auth.backends.ModelBackend",
]
# Lockout by the (user, address) pair only: an attacker elsewhere cannot lock the victim out. Attempts are rows in
# the database (no Redis needed, so it also works in the embedded default).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
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
