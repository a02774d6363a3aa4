"""`make run`: the whole portal on one machine, with a living sandbox pool, in one command.

Starts the sandbox pool, migrates, seeds the demo provider against it, syncs once, then runs the web server,
one Celery worker for the sync, one for e-mail (the `notify` queue) and exactly one beat. Prints the URL and the
demo logins. Ctrl-C stops every process it started.
Uses the embedded defaults (SQLite, filesystem broker) unless DATABASE_URL / REDIS_URL are set.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8000"))
SANDBOX_PORT = int(os.environ.get("SANDBOX_PORT", "8765"))
SANDBOX_KEY = "demo-api-key"
SANDBOX_SECRET = "demo-api-secret-not-for-production"
PASSWORD = os.environ.get("DEMO_PASSWORD", "demo")

children: list[subprocess.Popen] = []


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_ENV", "development")
    env.setdefault("MINING_SYNC_INTERVAL_S", "60")  # a living demo: sync every minute
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("PORTAL_BASE_URL", f"http://{HOST}:{PORT}")  # links in invitation and reset e-mails
    return env


def _manage(*args: str) -> None:
    """A setup step; if it fails, the children already started (the sandbox) are stopped too, so nothing is left
    holding a port or the caller's pipe."""
    if subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=_env()).returncode != 0:
        print(f"`manage.py {' '.join(args)}` failed; stopping.", flush=True)
        _stop_all(code=1)


def _spawn(*args: str) -> subprocess.Popen:
    proc = subprocess.Popen(list(args), cwd=ROOT, env=_env(), start_new_session=True)
    children.append(proc)
    return proc


def _wait_for_port(port: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"Nothing answered on port {port} within {timeout_s:.0f}s")


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _kill_children() -> None:
    for proc in children:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for proc in children:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)


def _stop_all(*_: object, code: int = 0) -> None:
    _kill_children()
    raise SystemExit(code)


def main() -> None:
    for port, what in ((PORT, "PORT"), (SANDBOX_PORT, "SANDBOX_PORT")):
        if not _port_free(port):
            raise SystemExit(f"Port {port} is taken; set {what}=another port (e.g. `{what}=9000 make run`).")
    signal.signal(signal.SIGINT, _stop_all)
    signal.signal(signal.SIGTERM, _stop_all)
    var_dir = Path(os.environ.get("VAR_DIR", ROOT / "var"))
    var_dir.mkdir(parents=True, exist_ok=True)
    _manage("migrate", "--noinput", "-v", "0")
    _spawn(PY, "manage.py", "run_sandbox", "--host", "127.0.0.1", "--port", str(SANDBOX_PORT),
           "--api-key", SANDBOX_KEY, "--api-secret", SANDBOX_SECRET, "--seed", "42", "--accounts", "9",
           "--workers", "8", "--history-days", "60")
    _wait_for_port(SANDBOX_PORT)
    upstream = f"http://127.0.0.1:{SANDBOX_PORT}"
    _manage("seed_demo", "--upstream", upstream, "--api-key", SANDBOX_KEY, "--api-secret", SANDBOX_SECRET,
            "--password", PASSWORD)
    _manage("sync_accounts")
    # billing (issue 8): close the complete months of the sandbox's 60-day history once (idempotent), in order
    # (months close in order), so closed statements are there to see. A demo accepts the estimates of months the
    # pool's windows do not fully cover; a real provider checks the data health page first.
    last_month = datetime.now(UTC).date().replace(day=1) - timedelta(days=1)
    _manage("close_month", "--through", last_month.strftime("%Y-%m"), "--accept-estimates")
    _spawn(PY, "manage.py", "runserver", f"{HOST}:{PORT}", "--noreload")
    embedded = not os.environ.get("REDIS_URL") and not os.environ.get("CELERY_BROKER_URL")
    pool = ["--pool", "solo"] if embedded else ["--pool", "threads", "--concurrency", "8"]
    _spawn(PY, "-m", "celery", "-A", "portal", "worker", "--loglevel", "WARNING", *pool,
           "-Q", os.environ.get("CELERY_QUEUE", "celery"))
    # E-mail has a worker of its own (as in compose), so a mail server that never answers cannot stall the sync.
    _spawn(PY, "-m", "celery", "-A", "portal", "worker", "--loglevel", "WARNING", "-n", "notify@%h",
           *(["--pool", "solo"] if embedded else ["--pool", "threads", "--concurrency", "2"]),
           "-Q", os.environ.get("CELERY_NOTIFY_QUEUE", "notify"))
    _spawn(PY, "-m", "celery", "-A", "portal", "beat", "--loglevel", "WARNING",
           "--schedule", str(var_dir / "celerybeat-schedule"),
           "--scheduler", "portal.beat:DurableScheduler")
    _wait_for_port(PORT)
    print(
        f"\n  Portal:        http://{HOST}:{PORT}/\n"
        f"  Sandbox pool:  {upstream}  (key {SANDBOX_KEY}, secret {SANDBOX_SECRET})\n"
        f"  Logins (password “{PASSWORD}”):\n"
        f"    owner@demo.example   provider owner (staff console)\n"
        f"    alice@demo.example   admin of Northwind Mining (customer)\n"
        f"    bob@demo.example     admin of Bluefin Hash (customer)\n"
        f"  Staff sign in with a second factor; the demo owner's current code:\n"
        f"    {os.path.relpath(PY, ROOT)} manage.py demo_totp owner@demo.example\n"
        f"  Ctrl-C stops everything.\n",
        flush=True,
    )
    while True:
        for proc in children:
            if proc.poll() is not None:
                print(f"A process exited ({' '.join(proc.args[:4])}…, code {proc.returncode}); stopping.")
                _stop_all()
        time.sleep(1)


if __name__ == "__main__":
    try:
        main()
    finally:  # whatever ended the script (a failed step, a port that never answered), no child outlives it
        _kill_children()
