"""Helpers for tests that run the project as production would: a production environment, compose's commands."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = str(Path(sys.executable).parent)

PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "k7#Qz9!pL2@vX8$mN4^bR6&tY1*wE3(uI5)oP0_aS-dF+gH=jK~lZ;xC:vB<nM>q",
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "portal.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/portal",
    "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
    "EMAIL_URL": "smtp://mail.example.com:587",
}
# Settings a test's own environment may carry that would change what production decides.
_STRIP = set(PRODUCTION_ENV) | {"DEBUG", "CELERY_BROKER_URL", "BEHIND_TLS_PROXY", "EMAIL_TIMEOUT", "STATIC_ROOT",
                                "SECURE_SSL_REDIRECT", "DJANGO_SETTINGS_MODULE", "FORWARDED_ALLOW_IPS"}


def clean_env(**env: str) -> dict[str, str]:
    """This process's environment without any setting, the venv first on PATH, plus `env`."""
    base = {k: v for k, v in os.environ.items() if k not in _STRIP}
    base["PATH"] = VENV_BIN + os.pathsep + base.get("PATH", "")
    return {**base, **env}


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=clean_env(**env),
                          capture_output=True, text=True, timeout=timeout)


def settings_values(*names: str, env: dict[str, str]) -> dict[str, object]:
    """Load portal.settings in a fresh process under `env` and return the named values (as JSON, paths as text)."""
    code = ("import json; import portal.settings as s; "
            f"print(json.dumps({{n: getattr(s, n) for n in {list(names)!r}}}, default=str))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean_env(**env), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


_INTERPOLATION = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def interpolate(arg: str, env: dict[str, str]) -> str:
    """Compose's `${VAR:-default}` substitution, enough for the project's own compose file."""
    return _INTERPOLATION.sub(lambda m: env.get(m.group(1)) or (m.group(2) or ""), arg).replace("$$", "$")


def dockerfile_static_command() -> str:
    """The Dockerfile's RUN line that builds the static files (shell form)."""
    lines = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("RUN ")]
    runs = [line[4:] for line in lines if "collectstatic" in line or "build_static" in line]
    assert len(runs) == 1, f"expected one static-files RUN line in the Dockerfile, found {runs}"
    return runs[0]
