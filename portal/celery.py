"""The one Celery app: web, worker and beat all run the same code and read the same settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# A worker that survives its broker and reports when it stops consuming (issue 17 item 2; portal/worker_health.py).
from portal.worker_health import worker_health_install  # noqa: E402

worker_health_install(app)
