"""Shared fixtures. Tests run against real PostgreSQL and Redis (see `make test`) and the sandbox pool over HTTP."""

from __future__ import annotations

import os
import time

import pytest

pytest_plugins = [
    "tests.fixtures.services",
    "tests.fixtures.tenancy",
    "tests.fixtures.sandbox",
    "tests.fixtures.mining",
    "tests.fixtures.mail",  # the e-mail outbox's loopback SMTP server
    "tests.fixtures.access",  # login_verified: staff pass the second factor (issue 9)
]


@pytest.fixture(autouse=True)
def _locmem_email(settings):
    """Outgoing e-mail cannot leave this machine; Django's locmem backend records it for assertions."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def pytest_addoption(parser):
    parser.addoption(
        "--fake-now", default=None, metavar="ISO",
        help="Run with the wall clock travelled to this UTC instant (ticking on), e.g. 2028-02-29T23:59:00Z: "
        "the proof that no test depends on the hour or the day it runs at.",
    )


def pytest_configure(config):
    fake = config.getoption("--fake-now")
    if fake:
        import datetime as dt

        import time_machine

        when = dt.datetime.fromisoformat(fake.replace("Z", "+00:00"))
        # Processes the tests start (Celery workers) shift their clocks by the same offset: tests.fake_clock_run.
        os.environ["TEST_CLOCK_OFFSET_S"] = str(when.timestamp() - time.time())
        config._fake_clock = time_machine.travel(when, tick=True)
        config._fake_clock.start()
        import tests.fake_clock_run

        tests.fake_clock_run._applied = True


def pytest_report_header(config):
    return [f"wall clock faked at {config.getoption('--fake-now')}" if config.getoption("--fake-now") else "",
            f"DATABASE_URL={os.environ.get('DATABASE_URL', '(embedded sqlite)')}",
            f"REDIS_URL={os.environ.get('REDIS_URL', '(none)')}"]
