"""Shared fixtures. Tests run against real PostgreSQL and Redis (see `make test`) and the sandbox pool over HTTP."""

from __future__ import annotations

import os

import pytest

pytest_plugins = [
    "tests.fixtures.services",
    "tests.fixtures.tenancy",
    "tests.fixtures.sandbox",
    "tests.fixtures.mining",
    "tests.fixtures.access",  # login_verified: staff pass the second factor (issue 9)
]


@pytest.fixture(autouse=True)
def _locmem_email(settings):
    """Outgoing e-mail cannot leave this machine; Django's locmem backend records it for assertions."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def pytest_report_header(config):
    return [f"DATABASE_URL={os.environ.get('DATABASE_URL', '(embedded sqlite)')}",
            f"REDIS_URL={os.environ.get('REDIS_URL', '(none)')}"]
