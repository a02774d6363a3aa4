"""The private stack `scripts/chaos.py` breaks: PostgreSQL, Redis, the sandbox pool, Celery workers, beat, SMTP.

Everything runs on free loopback ports and in a temporary directory of its own, so a fault run never touches the
machine's shared services (the shared PostgreSQL server is used only when no private instance can be made, and
then only for a database named `chaos_<pid>` that is dropped at the end).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
KEY, SECRET = "chaos-key", "chaos-secret-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout_s: float, what: str, every_s: float = 0.2) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:  # noqa: BLE001, S110 - not up yet
            pass
        time.sleep(every_s)
    raise RuntimeError(f"timed out after {timeout_s:.0f}s waiting for {what}")


def _as_postgres(args: list[str]) -> list[str]:
    """initdb refuses to run as root: run the server as the `postgres` system user when we are root."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class PrivatePostgres:
    """A PostgreSQL instance of our own (initdb + pg_ctl) that can be stopped with `-m immediate`; or, when no
    initdb is installed, a throwaway database on the shared server (then the fault is pg_terminate_backend)."""

    def __init__(self, tmp: Path) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        self.bin = Path(found[-1]).parent if found else None
        self.private = self.bin is not None
        self.dir = tmp / "pg"
        self.port = free_port() if self.private else 5432
        self.name = "portal" if self.private else f"chaos_{os.getpid()}"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.name}"

    def _ctl(self, *args: str) -> None:
        subprocess.run(_as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), *args]), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def create(self) -> PrivatePostgres:
        import psycopg

        if self.private:
            self.dir.mkdir(parents=True)
            if os.geteuid() == 0:
                shutil.chown(self.dir, "postgres")
            subprocess.run(_as_postgres([str(self.bin / "initdb"), "-D", str(self.dir / "data"), "-A", "trust",
                                         "-U", "postgres", "--no-sync"]), check=True, stdout=subprocess.DEVNULL)
            self.start()
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {self.name}")
        return self

    def start(self) -> None:
        self._ctl("-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                  "-c max_connections=200", "-l", str(self.dir / "log"), "-w", "start")

    def stop_immediate(self) -> None:
        self._ctl("-m", "immediate", "-w", "stop")

    def terminate_backends(self) -> int:
        """Cut every connection to the portal's database except our own (the shared-server fallback's fault)."""
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            return len(conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                                    "AND pid <> pg_backend_pid()", [self.name]).fetchall())

    def destroy(self) -> None:
        if self.private:
            try:
                self._ctl("-m", "immediate", "stop")
            except subprocess.CalledProcessError:
                pass
            return
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


class PrivateRedis:
    """A redis-server of our own with its data on disk (append-only, like compose's): kill -9 and start again."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.dir = tmp / "redis"
        self.dir.mkdir(parents=True)
        self.proc: subprocess.Popen | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> PrivateRedis:
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "yes",
             "--appendfsync", "always", "--dir", str(self.dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        wait_until(lambda: redis.Redis.from_url(self.url(0), socket_timeout=0.5).ping(), 10, "the private Redis")
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class Service:
    """A child process in its own process group, so a SIGKILL takes its pool threads and children with it."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.args, self.env, self.log = name, args, env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> Service:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.alive:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.alive:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


class Stack:
    """The whole private deployment; `env()` is what every child (and this process's Django) runs with."""

    def __init__(self, *, accounts: int, interval_s: int, lease_s: int, latency_ms: int, keep: bool) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="chaos-"))
        self.tmp.chmod(0o755)  # the private PostgreSQL runs as the `postgres` user when we are root
        self.keep = keep
        self.accounts, self.interval_s, self.lease_s, self.latency_ms = accounts, interval_s, lease_s, latency_ms
        self.pg = PrivatePostgres(self.tmp)
        self.redis = PrivateRedis(self.tmp)
        self.sandbox_port, self.smtp_port = free_port(), free_port()
        self.base_url = f"http://127.0.0.1:{self.sandbox_port}"
        self.data_now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        self.services: dict[str, Service] = {}

    def env(self) -> dict[str, str]:
        return {
            **os.environ, "DJANGO_ENV": "development", "DEBUG": "false", "DATABASE_URL": self.pg.url,
            "REDIS_URL": self.redis.url(1), "CELERY_BROKER_URL": self.redis.url(0), "WHITEBIT_REDIS_PREFIX": "chaos:",
            "LOG_LEVEL": "WARNING", "MINING_SYNC_INTERVAL_S": str(self.interval_s),
            "MINING_SYNC_LEASE_S": str(self.lease_s), "MINING_SYNC_RELEASE_WAIT_S": "5", "MINING_SYNC_WATCH_S": "5",
            "WHITEBIT_TIMEOUT_S": "4", "WHITEBIT_BACKOFF_BASE_S": "0.05", "WHITEBIT_BACKOFF_CAP_S": "0.2",
            "REDIS_SOCKET_TIMEOUT_S": "2", "CELERY_VISIBILITY_TIMEOUT": "60", "MINING_SYNC_TIME_LIMIT_S": "50",
            "EMAIL_URL": f"smtp://127.0.0.1:{self.smtp_port}", "EMAIL_TIMEOUT": "3",
            "EMAIL_OUTBOX_BACKOFF_BASE_S": "2", "EMAIL_OUTBOX_BACKOFF_CAP_S": "8", "EMAIL_OUTBOX_CLAIM_S": "30",
            "EMAIL_OUTBOX_SWEEP_AFTER_S": "10", "EMAIL_OUTBOX_SWEEP_EVERY_S": "5", "BEAT_LOCK_KEY": "chaos:beat",
            "BEAT_LOCK_TTL_S": "15", "DJANGO_SETTINGS_MODULE": "portal.settings",
        }

    def manage(self, *args: str) -> None:
        subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=self.env(), check=True, capture_output=True)

    def up(self) -> None:
        self.pg.create()
        self.redis.start()
        self.manage("migrate", "--noinput")
        self._service("sandbox", [
            PY, "manage.py", "run_sandbox", "--port", str(self.sandbox_port), "--api-key", KEY, "--api-secret",
            SECRET, "--seed", "7", "--accounts", str(self.accounts), "--workers", "3", "--history-days", "3",
            "--latency-ms", str(self.latency_ms), "--now", self.data_now.isoformat().replace("+00:00", "Z")])
        import requests

        wait_until(lambda: requests.get(self.base_url + "/_sandbox/stats", timeout=1).ok, 60, "the sandbox pool")
        for name in ("worker-a", "worker-b"):
            self.start_worker(name)
        self.start_worker("notify", queue="notify")
        self._service("beat", [PY, "-m", "celery", "-A", "portal", "beat", "--loglevel", "WARNING",
                               "-s", str(self.tmp / "beat-schedule")])

    def start_worker(self, name: str, queue: str = "celery") -> Service:
        return self._service(name, [PY, "-m", "celery", "-A", "portal", "worker", "--pool", "threads",
                                    "--concurrency", "4", "-Q", queue, "-n", f"{name}@%h", "--without-heartbeat",
                                    "--without-mingle", "--without-gossip", "--loglevel", "WARNING"])

    def _service(self, name: str, args: list[str]) -> Service:
        service = Service(name, args, self.env(), self.tmp / f"{name}.log").start()
        self.services[name] = service
        return service

    def control(self, method: str, path: str, body: dict | None = None) -> dict:
        import requests

        response = requests.request(method, self.base_url + path, json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def down(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop()
        self.redis.kill()
        self.pg.destroy()
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
