"""A task that overstays its hard time limit, for the worker test (loaded with `celery worker --include`)."""

from __future__ import annotations

import os
import time

import redis
from celery import shared_task

HARD_LIMIT_S = 2


@shared_task(time_limit=HARD_LIMIT_S, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def overstay_hard_limit(redis_url: str, key: str) -> None:
    """Records its process id, then sleeps far past the limit; it records "finished" only if nobody stops it."""
    client = redis.Redis.from_url(redis_url)
    client.set(f"{key}:pid", os.getpid(), ex=600)
    time.sleep(HARD_LIMIT_S * 30)
    client.set(f"{key}:finished", "1", ex=600)
