"""The production image, as far as this machine can run it (issue 7, items 2 and 8): static files built by the
Dockerfile's own command, gunicorn with compose's web command and production settings, and the compose
healthcheck's own command getting a 200 for /readyz and /login/."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time

import pytest
import requests
from django.db import connection

from tests.portal._production import PRODUCTION_ENV, ROOT, clean_env, compose, dockerfile_static_command

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, log, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"gunicorn exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"gunicorn did not listen on {port}:\n{log.read_text()[-3000:]}")


def _web_command(port: int) -> list[str]:
    """Compose's web command, bound to a free loopback port, with one worker (two cores shared by the suite)."""
    command = list(compose()["services"]["web"]["command"])
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    command[command.index("--workers") + 1] = "1"
    return command


def _healthcheck(url: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Compose's web healthcheck command, as is, with only its URL pointed at this server."""
    test = compose()["services"]["web"]["healthcheck"]["test"]
    assert test[0] == "CMD"
    argv = [re.sub(r"^http://127\.0\.0\.1:8000/readyz$", url, arg) for arg in test[1:]]
    assert url in argv, f"the healthcheck does not probe http://127.0.0.1:8000/readyz: {test}"
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)


def test_the_production_image_serves_pages_and_passes_its_healthcheck(db, tmp_path):
    static_root = tmp_path / "static"
    build = subprocess.run(["sh", "-c", dockerfile_static_command()], cwd=ROOT, capture_output=True, text=True,
                           env=clean_env(STATIC_ROOT=str(static_root), VAR_DIR=str(tmp_path / "var")), timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    assert (static_root / "staticfiles.json").exists(), "no manifest: production's {% static %} would raise"

    db_settings = connection.settings_dict
    port = _free_port()
    env = clean_env(**{
        **PRODUCTION_ENV,
        "DATABASE_URL": f"postgres://{db_settings['USER']}@{db_settings['HOST'] or '127.0.0.1'}:"
                        f"{db_settings['PORT'] or 5432}/{db_settings['NAME']}",
        "STATIC_ROOT": str(static_root),
        "VAR_DIR": str(tmp_path / "var"),
        # This server speaks plain HTTP on loopback; a real deployment has TLS in front (docs/OPERATIONS.md).
        "SECURE_SSL_REDIRECT": "false",
    })
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(_web_command(port), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        _wait_for_port(port, server, log)
        base = f"http://127.0.0.1:{port}"
        for path in ("/readyz", "/login/"):
            probe = _healthcheck(base + path, env)
            assert probe.returncode == 0, f"{path}: {probe.stderr}\n{log.read_text()[-3000:]}"

        # What the probe saw, in detail: the page links its stylesheet under a hashed name, and whitenoise serves it.
        headers = {"Host": PRODUCTION_ENV["ALLOWED_HOSTS"]}
        login = requests.get(base + "/login/", headers=headers, timeout=10)
        assert login.status_code == 200 and 'name="username"' in login.text
        css = re.search(r'href="(/static/portal/portal\.[0-9a-f]{12}\.css)"', login.text)
        assert css, login.text[:1000]
        assert requests.get(base + css.group(1), headers=headers, timeout=10).status_code == 200
        ready = requests.get(base + "/readyz", headers=headers, timeout=10)
        assert ready.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
