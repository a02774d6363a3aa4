"""Settings for the hosting-provider mining portal, one module per topic; `DJANGO_SETTINGS_MODULE=portal.settings`.

Everything comes from the environment through one `env` object (`base`). With nothing set the portal runs on an
embedded default (SQLite and a filesystem broker under `var/`) so a newcomer needs nothing but Python;
`DJANGO_ENV=production` refuses to start without real secrets and passes `check --deploy` cleanly (the check at
the bottom of this module, after every topic is read).

Topics, in the order they are read (a later one may use an earlier one's values):
`base` (environment, secrets, apps, the middleware in order, templates, database, static files, cache, logging),
`access` (sign-in, second factor, lockout, sessions, invitations), `http` (TLS proxy, security headers),
`api` (REST framework, schema), `upstream` (the pool client, the sync), `mail` (the outbox), `billing`,
`retention`, and `queues` (the broker, the queues and beat's whole schedule).
"""

from django.core.exceptions import ImproperlyConfigured

from portal.settings.access import *  # noqa: F403
from portal.settings.api import *  # noqa: F403
from portal.settings.base import *  # noqa: F403
from portal.settings.base import (
    _DEV_FIELD_KEY,
    _DEV_SECRET_KEY,
    ALLOWED_HOSTS,
    DATABASES,
    DEBUG,
    FIELD_ENCRYPTION_KEYS,
    IS_PRODUCTION,
    REDIS_URL,
    SECRET_KEY,
    env,
)
from portal.settings.billing import *  # noqa: F403
from portal.settings.http import *  # noqa: F403
from portal.settings.mail import *  # noqa: F403
from portal.settings.queues import *  # noqa: F403
from portal.settings.queues import CELERY_BROKER_TRANSPORT_OPTIONS, CELERY_BROKER_URL
from portal.settings.retention import *  # noqa: F403
from portal.settings.upstream import *  # noqa: F403
from portal.settings.upstream import MINING_SYNC_LEASE_S, MINING_SYNC_TIME_LIMIT_S

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
