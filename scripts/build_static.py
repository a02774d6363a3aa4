"""Collect static files the way production serves them: manifest storage (hashed names + staticfiles.json).

The Dockerfile runs this at build time and the production smoke test runs the very same script. Production
settings refuse to load without secrets, and an image must carry none, so the values below are random for
each build and thrown away with this process: nothing at run time can ever use them. STATIC_ROOT (if set)
says where to collect; the image uses the default, /app/staticfiles.

    python scripts/build_static.py
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "STATIC_ROOT", "VAR_DIR")


def build_env() -> dict[str, str]:
    env = {k: os.environ[k] for k in KEEP if k in os.environ}
    env.update(
        DJANGO_ENV="production",
        DJANGO_SETTINGS_MODULE="portal.settings",
        SECRET_KEY=secrets.token_urlsafe(64),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="static-build.invalid",
        DATABASE_URL="postgres://static-build.invalid:5432/unused",
        REDIS_URL="redis://static-build.invalid:6379/0",
    )
    return env


def main() -> int:
    return subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "1"], cwd=ROOT,
                          env=build_env()).returncode


if __name__ == "__main__":
    sys.exit(main())
