"""The newcomer's walk, for real: `scripts/run.py` (what `make run` runs) on the embedded defaults, sign in with
the printed credentials, see the provider's customers and the synced fleet; Ctrl-C stops every process."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children_of(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return {int(x) for x in out.split()}


def test_make_run_serves_a_living_demo_and_ctrl_c_stops_everything(tmp_path):
    port, sandbox_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_ENV", "DJANGO_SETTINGS_MODULE"}}
    env.update(PORT=str(port), SANDBOX_PORT=str(sandbox_port), VAR_DIR=str(tmp_path / "var"))
    proc = subprocess.Popen([sys.executable, "scripts/run.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    output = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            output.append(line)
            if "Ctrl-C stops everything" in line:
                break
        text = "".join(output)
        assert "Ctrl-C stops everything" in text, text[-3000:]
        url = re.search(r"Portal:\s+(\S+)", text).group(1)
        assert "owner@demo.example" in text and "alice@demo.example" in text

        session = requests.Session()
        login = session.get(url + "login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        signed_in = session.post(url + "login/", data={"csrfmiddlewaretoken": token, "username": "owner@demo.example",
                                                       "password": "demo"}, headers={"Referer": url + "login/"},
                                 timeout=10)
        # Staff have a second factor: the password leads to the code page, and the command make run printed
        # beside the logins gives the demo owner's current code (its last line is the six digits).
        assert signed_in.status_code == 200 and "/account/two-factor/verify/" in signed_in.url
        command = re.search(r"^\s+(\S+ manage\.py demo_totp owner@demo\.example)\s*$", text, re.M).group(1)
        printed = subprocess.run(command.split(), cwd=ROOT, env=env, capture_output=True, text=True, check=True)
        code = printed.stdout.strip().splitlines()[-1]
        assert re.fullmatch(r"\d{6}", code), printed.stdout
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', signed_in.text).group(1)
        next_url = re.search(r'name="next" value="([^"]*)"', signed_in.text).group(1)
        signed_in = session.post(signed_in.url, data={"csrfmiddlewaretoken": token, "code": code, "next": next_url},
                                 headers={"Referer": signed_in.url}, timeout=10)
        assert signed_in.status_code == 200 and "Northwind Mining" in signed_in.text
        assert "Bluefin Hash" in signed_in.text
        descendants = _children_of(proc.pid)
        assert len(descendants) >= 4  # sandbox, web server, worker, beat
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    time.sleep(1)
    alive = [pid for pid in descendants if os.path.exists(f"/proc/{pid}") and
             "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()]
    assert not alive, f"still running after Ctrl-C: {alive}"
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "healthz", timeout=2)
