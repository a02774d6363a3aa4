"""Time limits are enforced (issue 7, item 4): the compose worker's own command kills a task over its hard limit,
"hard limit < lease < visibility timeout" holds, and a mail server that never answers cannot hang a send."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
import redis
from django.conf import settings
from kombu import Connection, Exchange, Queue

from tests.portal._production import ROOT, clean_env, compose, interpolate
from tests.portal._silent import silent_server

pytestmark = pytest.mark.slow

_REDIS_BASE = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15").rsplit("/", 1)[0]
BROKER_URL = f"{_REDIS_BASE}/12"  # a broker database of this module's own (the durability tests use 13 and 14)


def _wait_for(predicate, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return "zombie" not in status.read().lower()
    except FileNotFoundError:
        return False


def test_the_renewed_lease_is_short_and_the_hard_limit_below_the_visibility_timeout():
    from mining.tasks import sync_account

    visibility_s = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert settings.MINING_SYNC_LEASE_S < sync_account.soft_time_limit < sync_account.time_limit < visibility_s


def test_the_compose_worker_kills_a_task_over_its_hard_time_limit(tmp_path):
    from tests.portal.celery_limits import HARD_LIMIT_S

    command = [interpolate(arg, {"WORKER_CONCURRENCY": "2"}) for arg in compose()["services"]["worker"]["command"]]
    assert command[:4] == ["celery", "-A", "portal", "worker"]
    queue, key = f"limits-{uuid.uuid4().hex[:8]}", f"test:limits:{uuid.uuid4().hex}"
    log = tmp_path / "worker.log"
    env = clean_env(DJANGO_ENV="test", CELERY_BROKER_URL=BROKER_URL, CELERY_QUEUE=queue,
                    REDIS_URL=os.environ.get("REDIS_URL", ""), DATABASE_URL=os.environ.get("DATABASE_URL", ""))
    # The compose command as is, plus only what keeps this test apart: its queue, the test task, no chatter.
    argv = [*command, "-Q", queue, "--include", "tests.portal.celery_limits",
            "--without-heartbeat", "--without-mingle", "--without-gossip"]
    with log.open("w") as out:
        worker = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    shared = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        from portal.celery import app

        with Connection(BROKER_URL) as conn:
            Queue(queue, Exchange(queue, type="direct"), routing_key=queue)(conn.default_channel).declare()
            app.send_task("tests.portal.celery_limits.overstay_hard_limit", args=[os.environ["REDIS_URL"], key],
                          queue=queue, connection=conn)
        _wait_for(lambda: shared.get(f"{key}:pid") is not None, "the task to start", timeout_s=90)
        child = int(shared.get(f"{key}:pid"))
        _wait_for(lambda: f"Hard time limit ({HARD_LIMIT_S}s) exceeded" in log.read_text(),
                  "the worker to enforce the hard limit")
        _wait_for(lambda: not _pid_alive(child), "the overstaying child process to be killed")
        assert shared.get(f"{key}:finished") is None  # killed mid-sleep: the task never reached its end
        assert worker.poll() is None  # the worker itself carries on (a fresh child replaces the killed one)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)
        shared.delete(f"{key}:pid", f"{key}:finished")
        redis.Redis.from_url(BROKER_URL).delete(queue)


_SEND = """
import django, sys
django.setup()
from django.conf import settings
from django.core.mail import send_mail
assert settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend", settings.EMAIL_BACKEND
try:
    send_mail("Alert", "A worker went offline.", "portal@example.com", ["ops@example.com"])
except Exception as exc:
    print(type(exc).__name__, settings.EMAIL_TIMEOUT, exc, sep="|")
else:
    print("sent")
"""


def test_a_mail_server_that_never_answers_cannot_hang_a_send():
    """Django's SMTP backend with the configured EMAIL_TIMEOUT: the send raises instead of waiting forever."""
    with silent_server(hold_s=120) as port:
        result = subprocess.run(
            [sys.executable, "-c", _SEND], cwd=ROOT, capture_output=True, text=True, timeout=90,
            env=clean_env(DJANGO_ENV="development", DJANGO_SETTINGS_MODULE="portal.settings",
                          EMAIL_URL=f"smtp://127.0.0.1:{port}", EMAIL_TIMEOUT="1"),
        )
    assert result.returncode == 0, result.stderr
    # smtplib reports the socket timeout while waiting for the greeting as a lost connection, in these words.
    name, timeout, message = result.stdout.strip().split("|")
    assert (name, timeout) == ("SMTPServerDisconnected", "1.0")
    assert message == "Connection unexpectedly closed: timed out"
