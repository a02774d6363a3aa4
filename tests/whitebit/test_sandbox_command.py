"""`manage.py run_sandbox`: option validation, and a real run answering a signed request until interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command

from mining.whitebit.signing import request_sign

ROOT = Path(__file__).resolve().parents[2]
BASE = ["--api-key", "k", "--api-secret", "s"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "70000"], "--port"),
        (["--accounts", "-1"], "--accounts"),
        (["--history-days", "0"], "--history-days"),
        (["--rate-limit", "0"], "--rate-limit"),
        (["--now", "yesterday"], "ISO 8601"),
        (["--now", "2026-11-15T00:00:00"], "UTC offset"),
        (["--host", "bad host!"], "--host"),
    ],
)
def test_invalid_options(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("run_sandbox", *BASE, *args)


def _real_now_ms() -> int:
    """The real clock the sandbox process judges nonces by, also when this run fakes its own (`--fake-now`)."""
    return int((time.time() - float(os.environ.get("TEST_CLOCK_OFFSET_S", "0"))) * 1000)


def test_serves_until_interrupted():
    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_sandbox",
            *BASE,
            "--port",
            "0",
            "--accounts",
            "2",
            "--now",
            "2026-11-15T00:00:00Z",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        base_url = None
        deadline = time.monotonic() + 30
        while base_url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "base URL:" in line:
                base_url = line.split("base URL:")[1].strip()
        output = "".join(lines)
        assert base_url, output
        assert "acct_001, acct_002" in output and "api key:   k" in output
        path = "/api/v4/mining/accounts"
        signed = request_sign(
            api_key="k", api_secret="s", body={"request": path, "nonce": _real_now_ms(), "nonceWindow": True}
        )
        response = requests.post(base_url + path, data=signed.body, headers=signed.headers, timeout=10)
        assert [a["name"] for a in response.json()["data"]] == ["acct_002", "acct_001"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)
        proc.stdout.close()
