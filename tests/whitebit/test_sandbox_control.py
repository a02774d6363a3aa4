"""Rate limiting, fault injection, statistics and the control endpoints of the sandbox."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from mining.whitebit.sandbox.app import SandboxApp
from mining.whitebit.signing import request_sign
from tests.fixtures.sandbox import sandbox_config, start_sandbox

P = "/api/v4/mining"
HASHRATE = f"{P}/hashrate"
ACCOUNTS = f"{P}/accounts"


@pytest.fixture
def small_limit_sandbox():
    handle = start_sandbox(sandbox_config(rate_limit=20, accounts=1, workers=1))
    yield handle
    handle.session.close()
    handle.server.stop()


class TestRateLimit:
    def test_21st_request_in_window_is_plain_text_429(self, small_limit_sandbox):
        statuses = [small_limit_sandbox.post(ACCOUNTS, {}).status_code for _ in range(20)]
        assert statuses == [200] * 20
        response = small_limit_sandbox.post(ACCOUNTS, {})
        assert response.status_code == 429
        assert response.text == "Too Many Requests"
        assert response.headers["Content-Type"].startswith("text/plain")
        stats = small_limit_sandbox.stats()
        assert stats["rate_limited"] == 1
        assert stats["rate_limited_by_endpoint"] == {ACCOUNTS: 1}
        assert stats["by_endpoint"][ACCOUNTS]["by_status"] == {"200": 20, "429": 1}

    def test_limit_is_per_endpoint(self, small_limit_sandbox):
        for _ in range(20):
            small_limit_sandbox.post(ACCOUNTS, {})
        assert small_limit_sandbox.post(ACCOUNTS, {}).status_code == 429
        assert small_limit_sandbox.post(f"{P}/rewards", {}).status_code == 200

    def test_json_body_variant(self):
        handle = start_sandbox(sandbox_config(rate_limit=1, rate_limit_json_body=True, accounts=1, workers=1))
        try:
            assert handle.post(ACCOUNTS, {}).status_code == 200
            response = handle.post(ACCOUNTS, {})
            assert response.status_code == 429
            assert response.json() == {"code": 0, "errors": {}, "message": "Too many requests."}
        finally:
            handle.server.stop()

    def test_window_slides(self):
        handle = start_sandbox(sandbox_config(rate_limit=2, rate_window_s=0.5, accounts=1, workers=1))
        try:
            assert [handle.post(ACCOUNTS, {}).status_code for _ in range(3)] == [200, 200, 429]
            time.sleep(0.6)
            assert handle.post(ACCOUNTS, {}).status_code == 200
        finally:
            handle.server.stop()


class TestFaults:
    def test_plain_429(self, sandbox_clean):
        sandbox_clean.fault(HASHRATE, "429")
        response = sandbox_clean.post(HASHRATE, {"account": "acct_001"})
        assert response.status_code == 429 and response.text == "Too Many Requests"
        assert sandbox_clean.post(HASHRATE, {"account": "acct_001"}).status_code == 200

    def test_json_429(self, sandbox_clean):
        sandbox_clean.fault(HASHRATE, "429_json")
        response = sandbox_clean.post(HASHRATE, {"account": "acct_001"})
        assert response.status_code == 429
        assert response.json() == {"code": 0, "errors": {}, "message": "Too many requests."}

    def test_500(self, sandbox_clean):
        sandbox_clean.fault(HASHRATE, "500")
        response = sandbox_clean.post(HASHRATE, {"account": "acct_001"})
        assert response.status_code == 500
        assert response.json() == {"error": ["Internal server error."]}

    def test_503_is_not_json(self, sandbox_clean):
        sandbox_clean.fault(HASHRATE, "503")
        response = sandbox_clean.post(HASHRATE, {"account": "acct_001"})
        assert response.status_code == 503
        assert response.headers["Content-Type"].startswith("text/html")
        with pytest.raises(ValueError):
            response.json()

    def test_malformed_json(self, sandbox_clean):
        sandbox_clean.fault(HASHRATE, "malformed_json")
        response = sandbox_clean.post(HASHRATE, {"account": "acct_001"})
        assert response.status_code == 200
        with pytest.raises(ValueError):
            response.json()

    def test_hang_then_answers(self, sandbox_clean):
        sandbox_clean.fault(HASHRATE, "hang", hang_s=0.3)
        started = time.monotonic()
        response = sandbox_clean.post(HASHRATE, {"account": "acct_001"})
        assert time.monotonic() - started >= 0.3
        assert response.status_code == 200  # the nonce was judged at arrival

    def test_hang_trips_a_client_timeout(self, sandbox_clean):
        sandbox_clean.fault(HASHRATE, "hang", hang_s=2)
        with pytest.raises(requests.Timeout):
            sandbox_clean.post(HASHRATE, {"account": "acct_001"}, timeout=0.2)

    def test_count_and_wildcard(self, sandbox_clean):
        sandbox_clean.fault("*", "500", count=2)
        assert sandbox_clean.post(ACCOUNTS, {}).status_code == 500
        assert sandbox_clean.post(f"{P}/rewards", {}).status_code == 500
        assert sandbox_clean.post(ACCOUNTS, {}).status_code == 200

    def test_endpoint_fault_does_not_touch_other_endpoints(self, sandbox_clean):
        sandbox_clean.fault(HASHRATE, "503", count=5)
        assert sandbox_clean.post(ACCOUNTS, {}).status_code == 200

    def test_clear(self, sandbox_clean):
        sandbox_clean.fault(HASHRATE, "500", count=10)
        sandbox_clean.clear_faults()
        assert sandbox_clean.post(HASHRATE, {"account": "acct_001"}).status_code == 200

    @pytest.mark.parametrize(
        "body",
        [
            {"endpoint": "/api/v4/mining/nope", "fault": "500"},
            {"endpoint": HASHRATE, "fault": "teapot"},
            {"endpoint": HASHRATE, "fault": "500", "count": 0},
        ],
    )
    def test_bad_fault_requests(self, sandbox_pool, body):
        response = requests.post(sandbox_pool.base_url + "/_sandbox/faults", json=body, timeout=10)
        assert response.status_code == 400
        assert "error" in response.json()


class TestStatsAndControl:
    def test_stats_count_per_endpoint_and_status(self):
        handle = start_sandbox(sandbox_config(accounts=1, workers=1))
        try:
            handle.post(ACCOUNTS, {})
            handle.post(f"{P}/miners/info", {"account": "ghost"})
            handle.post(ACCOUNTS, {}, api_secret="wrong")
            stats = handle.stats()
            assert stats["total"] == 3
            assert stats["by_status"] == {"200": 1, "400": 1, "401": 1}
            assert stats["by_endpoint"][ACCOUNTS] == {"total": 2, "by_status": {"200": 1, "401": 1}}
            handle.reset_stats()
            assert handle.stats()["total"] == 0
        finally:
            handle.server.stop()

    def test_clock_endpoint(self, sandbox_clean):
        state = sandbox_clean.control("GET", "/_sandbox/clock")
        assert state["frozen"] is True
        assert state["now"] == sandbox_clean.frozen_now.isoformat().replace("+00:00", "Z")
        bad = requests.post(sandbox_clean.base_url + "/_sandbox/clock", json={"now": "2026-01-01"}, timeout=10)
        assert bad.status_code == 400
        sandbox_clean.set_clock(None)
        assert sandbox_clean.control("GET", "/_sandbox/clock")["frozen"] is False

    def test_accounts_endpoint(self, sandbox_pool):
        accounts = sandbox_pool.control("GET", "/_sandbox/accounts")["accounts"]
        assert [a["name"] for a in accounts] == ["acct_001", "acct_002", "acct_003", "acct_004"]
        assert accounts[0]["workers"] == [f"worker_00{i}" for i in range(1, 6)]

    def test_control_refuses_non_loopback_clients(self):
        """Checked in-process: a remote address cannot be produced from this machine's loopback socket."""
        app = SandboxApp(sandbox_config(accounts=1, workers=1))
        seen = {}

        def start_response(status, headers):
            seen["status"] = status

        environ = {"PATH_INFO": "/_sandbox/stats", "REQUEST_METHOD": "GET", "REMOTE_ADDR": "203.0.113.9"}
        assert app(environ, start_response) == [b""]
        assert seen["status"].startswith("404")
        environ["REMOTE_ADDR"] = "127.0.0.1"
        app(environ, start_response)
        assert seen["status"].startswith("200")

    def test_latency(self):
        handle = start_sandbox(sandbox_config(latency_ms=150, accounts=1, workers=1))
        try:
            started = time.monotonic()
            assert handle.post(ACCOUNTS, {}).status_code == 200
            assert time.monotonic() - started >= 0.15
            started = time.monotonic()
            handle.stats()
            assert time.monotonic() - started < 0.15  # control requests are not delayed
        finally:
            handle.server.stop()

    def test_concurrent_requests(self):
        """Many threads at once: every request succeeds, and throughput is far from pathological. (A dedicated
        sandbox, so these 400 requests do not eat the shared sandbox's rate budget; real throughput is several
        hundred requests/s even with the client in the same process, but CI machines are noisy.)"""
        handle = start_sandbox(sandbox_config(accounts=1, workers=5))

        def call(_):
            with requests.Session() as session:
                for _ in range(10):
                    signed = request_sign(
                        api_key=handle.api_key,
                        api_secret=handle.api_secret,
                        body={
                            "request": HASHRATE,
                            "nonce": handle.next_nonce(),
                            "nonceWindow": True,
                            "account": "acct_001",
                        },
                    )
                    response = session.post(
                        handle.base_url + HASHRATE, data=signed.body, headers=signed.headers, timeout=10
                    )
                    assert response.status_code == 200, response.text

        try:
            started = time.monotonic()
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(call, range(40)))
            elapsed = time.monotonic() - started
            assert handle.stats()["by_status"] == {"200": 400}
            assert 400 / elapsed > 50, f"only {400 / elapsed:.0f} requests/s"
        finally:
            handle.server.stop()
