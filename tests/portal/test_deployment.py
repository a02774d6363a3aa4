"""Production configuration: refuses to start without secrets, passes check --deploy, and the compose file
names only things the project really has (no Docker engine runs here, so the file is checked by parsing)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

from tests.portal._production import PRODUCTION_ENV

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "DEBUG"}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_production_settings_pass_check_deploy_with_zero_warnings():
    result = _manage("check", "--deploy", "--fail-level", "DEBUG", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "ALLOWED_HOSTS", "DATABASE_URL"])
def test_production_refuses_to_start_without_real_secrets(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "Refusing to start in production" in result.stderr and missing in result.stderr


def test_production_refuses_the_development_secret_key():
    from portal.settings import _DEV_SECRET_KEY

    result = _manage("check", env={**PRODUCTION_ENV, "SECRET_KEY": _DEV_SECRET_KEY})
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_embedded_default_needs_no_services(tmp_path):
    """With nothing set, settings choose SQLite and the filesystem broker: a newcomer needs only Python."""
    code = (
        "import django,os;os.environ['DJANGO_SETTINGS_MODULE']='portal.settings';django.setup();"
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL)"
    )
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "CELERY_BROKER_URL"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["django.db.backends.sqlite3", "filesystem://"]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_production_services_with_healthchecks_and_volumes():
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "notify", "beat"}
    for name in ("postgres", "redis", "web", "worker", "notify"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    assert {"pgdata", "redisdata"} <= set(compose["volumes"])
    assert any(v.startswith("pgdata:") for v in services["postgres"]["volumes"])
    # migrate runs once and the app services wait for it to finish.
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "notify", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_compose_worker_scales_and_beat_stays_single():
    services = _compose()["services"]
    worker = services["worker"]
    # A fixed container name or host port would make `--scale worker=4` fail.
    assert "container_name" not in worker and "ports" not in worker
    assert services["beat"]["deploy"]["replicas"] == 1
    assert "container_name" not in services["beat"]
    assert "container_name" not in services["notify"] and "ports" not in services["notify"]


def test_mail_has_its_own_worker_and_the_sync_worker_does_not_take_it():
    """Issue 17, item 4: the e-mail tasks are routed to the notify queue; only the notify service consumes it."""
    from django.conf import settings

    from portal.celery import app

    services = _compose()["services"]
    queue = settings.CELERY_NOTIFY_QUEUE
    # every e-mail, password resets and invitations included, is an outbox row sent by this one task
    assert app.amqp.router.route({}, "tenants.tasks.email_send_task")["queue"].name == queue
    assert app.amqp.router.route({}, "mining.tasks.sync_account")["queue"].name == settings.CELERY_TASK_DEFAULT_QUEUE

    def consumes(name: str) -> str:
        command = services[name]["command"]
        return command[command.index("-Q") + 1]

    assert consumes("notify") == queue
    assert queue not in consumes("worker").split(",")


def _check_command_exists(command: list[str]) -> None:
    program = command[0]
    if program == "python" and command[1] == "manage.py":
        assert command[2] in get_commands(), f"manage.py has no command {command[2]!r}"
    elif program == "gunicorn":
        args = list(command[1:])
        if args[0] == "--config":  # python:MODULE, which gunicorn imports
            importlib.import_module(args[1].removeprefix("python:"))
            args = args[2:]
        module, attr = args[0].split(":")
        assert hasattr(importlib.import_module(module), attr)
    elif program == "celery":
        assert command[1] == "-A"
        app = importlib.import_module(command[2]).celery_app
        sub = command[3]
        assert sub in {"worker", "beat"}
        if "--scheduler" in command:
            module, cls = command[command.index("--scheduler") + 1].split(":")
            assert hasattr(importlib.import_module(module), cls)
        assert app.main == "portal"
    else:
        pytest.fail(f"unexpected program in compose: {program}")


def test_every_command_compose_names_exists_in_the_project():
    services = _compose()["services"]
    for name in ("migrate", "web", "worker", "notify", "beat"):
        _check_command_exists(services[name]["command"])
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "requirements.txt" in dockerfile
    # Static files are built by one script, shared with the production smoke test (test_production_smoke.py).
    assert "scripts/build_static.py" in dockerfile and "collectstatic" in (ROOT / "scripts/build_static.py").read_text()
    for name in ("web", "worker", "beat", "migrate"):
        assert services[name]["build"] == "."


def test_requirements_are_all_pinned():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert "==" in line, f"unpinned requirement: {line}"


@pytest.mark.django_db
def test_migrations_are_in_step_with_models():
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
