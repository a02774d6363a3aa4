"""The Django project package. Loading the Celery app here makes `@shared_task` bind to it everywhere."""

from portal.celery import app as celery_app

__all__ = ["celery_app"]
