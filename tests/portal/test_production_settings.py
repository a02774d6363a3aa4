"""Production fails closed (issue 7, items 3 and 9): the image runs as production, production refuses nonsense,
a `.env` never reaches production or the image, and the proxy header is trusted only when an operator says so.

Each refusal starts `manage.py check` in a fresh process, as the container would."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import sys
from fnmatch import fnmatch

import pytest
from cryptography.fernet import Fernet

from portal.production import secret_key_is_weak
from tests.portal._production import PRODUCTION_ENV, ROOT, clean_env, compose, manage, settings_values

VALID_KEY = Fernet.generate_key().decode()


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"FIELD_ENCRYPTION_KEYS": "notakey"}, "FIELD_ENCRYPTION_KEYS: key(s) 1 are not valid Fernet keys"),
        ({"FIELD_ENCRYPTION_KEYS": f"{VALID_KEY},also-not-a-key"}, "FIELD_ENCRYPTION_KEYS: key(s) 2 are not valid"),
        ({"DATABASE_URL": "sqlite:////tmp/portal-prod.sqlite3"}, "DATABASE_URL must point at PostgreSQL (SQLite"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS must not contain '*'"),
        ({"ALLOWED_HOSTS": "portal.example.com,*"}, "ALLOWED_HOSTS must not contain '*'"),
        ({"SECRET_KEY": "a" * 64}, "SECRET_KEY must be set to a random value"),
        ({"SECRET_KEY": "abcde" * 12}, "SECRET_KEY must be set to a random value"),
        ({"SECRET_KEY": "password" * 8}, "SECRET_KEY must be set to a random value"),
        ({"SECRET_KEY": "django-insecure-" + secrets.token_urlsafe(50)}, "SECRET_KEY must be set to a random value"),
        ({"REDIS_URL": None}, "REDIS_URL must point at Redis"),
        ({"CELERY_BROKER_URL": "filesystem://"}, "CELERY_BROKER_URL must point at Redis"),
        ({"MINING_SYNC_LEASE_S": "600"}, "MINING_SYNC_LEASE_S < MINING_SYNC_TIME_LIMIT_S < CELERY_VISIBILITY_TIMEOUT"),
        ({"CELERY_VISIBILITY_TIMEOUT": "500"}, "MINING_SYNC_LEASE_S < MINING_SYNC_TIME_LIMIT_S < CELERY_VISIBILITY"),
    ],
    ids=["not-fernet", "second-not-fernet", "sqlite", "star", "star-among-hosts", "one-letter", "short-cycle",
         "word-repeated", "django-insecure", "no-redis", "filesystem-broker", "lease-above-limit",
         "visibility-below-limit"],
)
def test_production_refuses_to_start_on(overrides, named):
    env = {**PRODUCTION_ENV, **{k: v for k, v in overrides.items() if v is not None}}
    for key in [k for k, v in overrides.items() if v is None]:
        env.pop(key)
    result = manage("check", env=env)
    assert result.returncode != 0, result.stdout
    assert "Refusing to start in production" in result.stderr
    assert named in result.stderr


def test_production_accepts_real_keys_of_the_usual_shapes():
    """Not over-strict: `openssl rand -hex 32` and Django's own generator both pass."""
    for key in (secrets.token_hex(32), secrets.token_urlsafe(50)):
        assert not secret_key_is_weak(key), key
    result = manage("check", env={**PRODUCTION_ENV, "SECRET_KEY": secrets.token_hex(32),
                                  "FIELD_ENCRYPTION_KEYS": f"{VALID_KEY}, {Fernet.generate_key().decode()}"})
    assert result.returncode == 0, result.stderr


def test_the_image_runs_as_production_so_a_bare_container_refuses_to_start():
    """The Dockerfile's own ENV, and nothing else: DEBUG off and no public development keys, i.e. a refusal."""
    env: dict[str, str] = {}
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("ENV "):
            env.update(pair.split("=", 1) for pair in line[4:].split())
    assert env.get("DJANGO_ENV") == "production"
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "Refusing to start in production" in result.stderr and "SECRET_KEY" in result.stderr


def test_the_proxy_ssl_header_is_trusted_only_behind_a_declared_tls_proxy():
    direct = settings_values("SECURE_PROXY_SSL_HEADER", env=PRODUCTION_ENV)
    assert direct["SECURE_PROXY_SSL_HEADER"] is None  # compose publishes gunicorn: anyone could send the header
    proxied = settings_values("SECURE_PROXY_SSL_HEADER", env={**PRODUCTION_ENV, "BEHIND_TLS_PROXY": "true"})
    assert proxied["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_production_bounds_smtp_and_database_connects_by_default():
    values = settings_values("EMAIL_TIMEOUT", "DATABASES", env=PRODUCTION_ENV)
    assert values["EMAIL_TIMEOUT"] == 10.0
    assert values["DATABASES"]["default"]["OPTIONS"]["connect_timeout"] == 5
    assert settings_values("EMAIL_TIMEOUT", env={**PRODUCTION_ENV, "EMAIL_TIMEOUT": "3"})["EMAIL_TIMEOUT"] == 3.0


# --- .env: development only, never in the image or the repository -----------------------------------------------


def _dockerignore_excludes(path: str) -> bool:
    """Docker's rule: the last matching pattern wins; `!` re-includes (patterns here are top-level globs)."""
    excluded = False
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        if fnmatch(path, pattern.lstrip("!").rstrip("/")):
            excluded = not negate
    return excluded


@pytest.mark.parametrize("name", [".env", ".env.production", ".env.local"])
def test_env_files_stay_out_of_the_image_and_the_repository(name):
    assert _dockerignore_excludes(name), f".dockerignore lets {name} into the image (COPY . .)"
    ignored = subprocess.run(["git", "check-ignore", "-q", name], cwd=ROOT)
    assert ignored.returncode == 0, f".gitignore does not ignore {name}"


@pytest.fixture
def settings_copy(tmp_path):
    """The real settings module in a project folder of its own, so a `.env` can sit at its BASE_DIR."""
    (tmp_path / "portal").mkdir()
    (tmp_path / "portal" / "__init__.py").write_text("")
    shutil.copytree(ROOT / "portal" / "settings", tmp_path / "portal" / "settings")
    for name in ("production.py", "security_headers.py", "hosts.py"):  # settings imports these
        shutil.copy(ROOT / "portal" / name, tmp_path / "portal" / name)
    return tmp_path


def _load(project, env: dict[str, str]) -> subprocess.CompletedProcess:
    code = "import portal.settings as s; print(s.SECRET_KEY)"
    return subprocess.run([sys.executable, "-c", code], cwd=project, env=clean_env(VAR_DIR=str(project / "var"), **env),
                          capture_output=True, text=True, timeout=60)


def test_production_never_reads_a_dotenv_file(settings_copy):
    from_file = secrets.token_urlsafe(60)
    (settings_copy / ".env").write_text(f"SECRET_KEY={from_file}\n")
    without_key = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = _load(settings_copy, without_key)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr
    # Development still reads it (the convenience it is for).
    dev = _load(settings_copy, {"DJANGO_ENV": "development"})
    assert dev.returncode == 0, dev.stderr
    assert dev.stdout.strip() == from_file


def test_a_dotenv_file_cannot_switch_itself_into_production(settings_copy):
    (settings_copy / ".env").write_text("DJANGO_ENV=production\nSECRET_KEY=" + secrets.token_urlsafe(60) + "\n")
    result = _load(settings_copy, {})
    assert result.returncode != 0
    assert "DJANGO_ENV must be set in the real environment, not in .env" in result.stderr


def _gunicorn_command(source: str) -> list[str]:
    if source == "compose":
        return list(compose()["services"]["web"]["command"])
    (cmd,) = [ln[4:] for ln in (ROOT / "Dockerfile").read_text().splitlines() if ln.startswith("CMD ")]
    return json.loads(cmd)


def _forwarded_allow_ips(command: list[str], **env: str) -> str:
    """What the real gunicorn resolves from this command line and environment (`--print-config`)."""
    result = subprocess.run([*command, "--print-config"], cwd=ROOT, env=clean_env(**{**PRODUCTION_ENV, **env}),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return re.search(r"^forwarded_allow_ips\s*=\s*(.*)$", result.stdout, re.M).group(1)


@pytest.mark.parametrize("source", ["compose", "dockerfile"])
def test_gunicorn_trusts_forwarded_headers_only_behind_a_declared_tls_proxy(source):
    """gunicorn's own default trusts X-Forwarded-Proto from 127.0.0.1 and then reports the request as HTTPS to
    Django whatever SECURE_PROXY_SSL_HEADER says; its trust must follow BEHIND_TLS_PROXY (portal/gunicorn_conf.py)."""
    command = _gunicorn_command(source)
    assert _forwarded_allow_ips(command) == "[]"
    assert _forwarded_allow_ips(command, BEHIND_TLS_PROXY="false", FORWARDED_ALLOW_IPS="10.0.0.5") == "[]"
    assert _forwarded_allow_ips(command, BEHIND_TLS_PROXY="true") == "['127.0.0.1', '::1']"
    assert _forwarded_allow_ips(command, BEHIND_TLS_PROXY="true", FORWARDED_ALLOW_IPS="10.0.0.5") == "['10.0.0.5']"
