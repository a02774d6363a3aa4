"""Health probes under real failure modes (issue 7, item 8): a Redis that accepts and never answers makes /readyz
fail fast instead of hanging a web worker; the body names only the dependency; the container probe sends the
portal's own host name, since ALLOWED_HOSTS answers a bare 127.0.0.1 with 400."""

from __future__ import annotations

import importlib.util
import logging

import pytest

from tests.portal._production import ROOT
from tests.portal._silent import silent_server


def _probe_module():
    spec = importlib.util.spec_from_file_location("probe", ROOT / "scripts" / "probe.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db
def test_readyz_reports_a_silent_redis_broker_as_down_instead_of_hanging(client, caplog):
    from portal.celery import app

    old = app.conf.broker_url
    with silent_server(hold_s=60) as port:
        app.conf.broker_url = f"redis://127.0.0.1:{port}/0"
        try:
            with caplog.at_level(logging.WARNING, logger="portal.views.health"):
                response = client.get("/readyz")
        finally:
            app.conf.broker_url = old
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "ok", "broker": "down"}}
    # The reason is kept for the operator, in the log.
    assert any("broker check failed" in r.getMessage() and r.exc_info for r in caplog.records)


@pytest.mark.django_db
def test_a_probe_by_bare_address_is_refused_by_allowed_hosts(client, settings):
    """Why the container probe must send a Host header: production's ALLOWED_HOSTS rejects 127.0.0.1."""
    settings.ALLOWED_HOSTS = ["portal.example.com"]
    assert client.get("/readyz", HTTP_HOST="127.0.0.1:8000").status_code == 400
    assert client.get("/readyz", HTTP_HOST="portal.example.com").status_code == 200


@pytest.mark.parametrize(
    ("allowed", "host"),
    [("portal.example.com", "portal.example.com"), (" a.example.com , b.example.com", "a.example.com"),
     (".example.com,x.example.org", "example.com"), ("", "localhost")],
)
def test_the_probe_sends_the_first_allowed_host(allowed, host):
    assert _probe_module().probe_host(allowed) == host


def test_compose_probes_the_web_service_with_the_probe_script():
    from tests.portal._production import compose

    test = compose()["services"]["web"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "scripts/probe.py"] and test[3].endswith("/readyz")


@pytest.mark.django_db
def test_readyz_reports_a_silent_database_as_down_within_the_connect_timeout(client, monkeypatch):
    """A PostgreSQL that accepts and never answers: the configured connect timeout ends the wait."""
    from django.db import connection
    from django.db.backends.postgresql.base import DatabaseWrapper

    from portal.views import health

    assert connection.settings_dict["OPTIONS"]["connect_timeout"] == 5  # DB_CONNECT_TIMEOUT_S's default
    with silent_server(hold_s=60) as port:
        silent = DatabaseWrapper({**connection.settings_dict, "HOST": "127.0.0.1", "PORT": port}, alias="silent")
        monkeypatch.setattr(health, "connection", silent)
        try:
            response = client.get("/readyz")
        finally:
            silent.close()
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "down", "broker": "ok"}}
