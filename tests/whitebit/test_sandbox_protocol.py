"""The sandbox enforces the pool's wire protocol (contract §1) in the documented order, over real HTTP."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import pytest
import requests

from mining.whitebit.signing import payload_encode, signature_compute

HASHRATE = "/api/v4/mining/hashrate"
ACCOUNTS = "/api/v4/mining/accounts"
MINER_INFO = "/api/v4/mining/miners/info"

NONCE_429 = {"code": 0, "errors": {}, "message": "Too many requests."}


def _signed_raw(sandbox, path: str, text: str, *, secret: str | None = None) -> requests.Response:
    """Send exactly `text` as body and payload, signed correctly: for bodies `body_encode` would never produce."""
    payload = payload_encode(text.encode())
    headers = {
        "Content-Type": "application/json",
        "X-TXC-APIKEY": sandbox.api_key,
        "X-TXC-PAYLOAD": payload,
        "X-TXC-SIGNATURE": signature_compute(secret or sandbox.api_secret, payload),
    }
    return requests.post(sandbox.base_url + path, data=text.encode(), headers=headers, timeout=10)


def test_signed_request_succeeds(sandbox_pool):
    response = sandbox_pool.post(ACCOUNTS, {})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"


def test_contract_worked_example_passes_signature_and_payload_checks():
    """The contract's §1.6 bytes get past key, HMAC and payload checks; only its 2024 nonce is (rightly) stale."""
    from tests.fixtures.sandbox import sandbox_config, start_sandbox

    handle = start_sandbox(sandbox_config(extra_credentials={"EXAMPLE_API_KEY": "EXAMPLE_API_SECRET_0123456789"}))
    try:
        body = (
            b'{"request":"/api/v4/mining/hashrate","nonce":1709340000000,"nonceWindow":true,'
            b'"account":"my_miner_01","interval":"1h"}'
        )
        headers = {
            "Content-Type": "application/json",
            "X-TXC-APIKEY": "EXAMPLE_API_KEY",
            "X-TXC-PAYLOAD": "eyJyZXF1ZXN0IjoiL2FwaS92NC9taW5pbmcvaGFzaHJhdGUiLCJub25jZSI6MTcwOTM0MDAwMDAwMCwi"
            "bm9uY2VXaW5kb3ciOnRydWUsImFjY291bnQiOiJteV9taW5lcl8wMSIsImludGVydmFsIjoiMWgifQ==",
            "X-TXC-SIGNATURE": "bcd2cf8cd86c484daf6dddd3759587fb17905cf3a1bab148357251df1e2d512e"
            "3f8ed6d929bcb491ddd3c93b7cda3dc54503675d70bc5fd11802c200acf18529",
        }
        response = requests.post(handle.base_url + HASHRATE, data=body, headers=headers, timeout=10)
        assert response.status_code == 429
        assert "5 seconds" in response.json()["message"]
    finally:
        handle.server.stop()


def test_missing_payload_header(sandbox_pool):
    response = sandbox_pool.post(ACCOUNTS, {}, headers={"X-TXC-PAYLOAD": None})
    assert response.status_code == 400
    assert response.json()["message"] == "Payload not provided."


def test_unknown_key_is_401_code_2(sandbox_pool):
    response = sandbox_pool.post(ACCOUNTS, {}, api_key="not-a-key")
    assert response.status_code == 401
    assert response.json() == {"code": 2, "message": "This action is unauthorized. Enable your key in API settings"}


def test_wrong_secret_is_401_code_10(sandbox_pool):
    response = sandbox_pool.post(ACCOUNTS, {}, api_secret="wrong-secret")
    assert response.status_code == 401
    assert response.json() == {"code": 10, "message": "Unauthorized request."}


def test_unknown_key_is_checked_before_signature(sandbox_pool):
    response = sandbox_pool.post(ACCOUNTS, {}, api_key="nope", api_secret="also-wrong")
    assert response.json()["code"] == 2


def test_body_differs_from_payload_is_code_9(sandbox_pool):
    response = sandbox_pool.post(ACCOUNTS, {}, raw_body=b'{"request":"/api/v4/mining/accounts","nonce":1}')
    assert response.status_code == 400
    assert response.json() == {"code": 9, "message": "Invalid payload."}


def test_spaced_json_is_rejected_even_when_signed(sandbox_pool):
    text = json.dumps({"request": ACCOUNTS, "nonce": sandbox_pool.next_nonce(), "nonceWindow": True})
    assert " " in text
    response = _signed_raw(sandbox_pool, ACCOUNTS, text)
    assert response.status_code == 400
    assert response.json() == {"code": 9, "message": "Invalid payload."}


def test_spaces_inside_strings_are_fine(sandbox_pool):
    text = json.dumps(
        {"request": ACCOUNTS, "nonce": sandbox_pool.next_nonce(), "nonceWindow": True, "name": "a b"},
        separators=(",", ":"),
    )
    response = _signed_raw(sandbox_pool, ACCOUNTS, text)
    assert response.status_code == 200
    assert response.json()["data"] == []  # a filter that matches nothing


def test_key_order_does_not_matter(sandbox_pool):
    text = json.dumps(
        {"nonceWindow": True, "nonce": sandbox_pool.next_nonce(), "request": ACCOUNTS}, separators=(",", ":")
    )
    assert _signed_raw(sandbox_pool, ACCOUNTS, text).status_code == 200


def test_payload_that_is_not_json_is_code_9(sandbox_pool):
    response = _signed_raw(sandbox_pool, ACCOUNTS, "not json")
    assert response.status_code == 400
    assert response.json()["code"] == 9


def test_payload_not_base64_is_code_9(sandbox_pool):
    payload = "%%%not-base64%%%"
    headers = {
        "X-TXC-APIKEY": sandbox_pool.api_key,
        "X-TXC-PAYLOAD": payload,
        "X-TXC-SIGNATURE": signature_compute(sandbox_pool.api_secret, payload),
    }
    response = requests.post(sandbox_pool.base_url + ACCOUNTS, data=b"{}", headers=headers, timeout=10)
    assert response.status_code == 400
    assert response.json()["code"] == 9


def test_request_missing(sandbox_pool):
    text = json.dumps({"nonce": sandbox_pool.next_nonce(), "nonceWindow": True}, separators=(",", ":"))
    response = _signed_raw(sandbox_pool, ACCOUNTS, text)
    assert response.status_code == 400
    assert response.json()["message"] == "Request not provided."


def test_request_differs_from_path_is_unauthorized(sandbox_pool):
    response = sandbox_pool.post(ACCOUNTS, {"request": MINER_INFO})
    assert response.status_code == 401
    assert response.json() == {"code": 10, "message": "Unauthorized request."}


def test_nonce_missing(sandbox_pool):
    text = json.dumps({"request": ACCOUNTS, "nonceWindow": True}, separators=(",", ":"))
    response = _signed_raw(sandbox_pool, ACCOUNTS, text)
    assert response.status_code == 400
    assert response.json()["message"] == "Nonce not provided."


def test_nonce_window_must_be_boolean(sandbox_pool):
    response = sandbox_pool.post(ACCOUNTS, {"nonceWindow": "true"})
    assert response.status_code == 400
    assert response.json()["message"] == "Invalid nonceWindow."


def test_nonce_as_numeric_string_is_accepted(sandbox_pool):
    response = sandbox_pool.post(ACCOUNTS, {}, nonce=str(sandbox_pool.next_nonce()))
    assert response.status_code == 200


class TestWindowMode:
    def test_replay_inside_window_is_429_json(self, sandbox_pool):
        nonce = sandbox_pool.next_nonce()
        assert sandbox_pool.post(ACCOUNTS, {}, nonce=nonce).status_code == 200
        replay = sandbox_pool.post(ACCOUNTS, {}, nonce=nonce)
        assert replay.status_code == 429
        assert replay.json() == NONCE_429

    def test_out_of_order_nonces_are_fine(self, sandbox_pool):
        earlier = sandbox_pool.next_nonce()
        time.sleep(0.05)
        later = sandbox_pool.next_nonce()  # both unique, so only the order differs from the usual
        assert later - earlier >= 50
        assert sandbox_pool.post(ACCOUNTS, {}, nonce=later).status_code == 200
        assert sandbox_pool.post(ACCOUNTS, {}, nonce=earlier).status_code == 200

    @pytest.mark.parametrize("offset_ms", [-6000, +6000])
    def test_nonce_outside_five_seconds_is_rejected(self, sandbox_pool, offset_ms):
        response = sandbox_pool.post(ACCOUNTS, {}, nonce=int(time.time() * 1000) + offset_ms)
        assert response.status_code == 429
        assert response.json()["message"] == "Your nonce is more than 5 seconds lesser than the current nonce"

    def test_small_counter_nonce_is_stale_in_window_mode(self, sandbox_pool):
        assert sandbox_pool.post(ACCOUNTS, {}, nonce=12345).status_code == 429


class TestIncreasingMode:
    """Without nonceWindow, each key's nonce must strictly increase. A separate key keeps this state isolated."""

    @pytest.fixture
    def own_key(self):
        from tests.fixtures.sandbox import sandbox_config, start_sandbox

        handle = start_sandbox(sandbox_config(extra_credentials={"counter-key": "counter-secret"}))
        yield handle
        handle.server.stop()

    def _post(self, handle, nonce, *, window=False):
        body = {"nonceWindow": False} if window is False else {}
        return handle.post(ACCOUNTS, body, api_key="counter-key", api_secret="counter-secret", nonce=nonce)

    def test_counter_nonces_increase(self, own_key):
        assert self._post(own_key, 1).status_code == 200
        assert self._post(own_key, 2).status_code == 200
        assert self._post(own_key, 100).status_code == 200

    def test_equal_or_lower_nonce_is_429_json(self, own_key):
        assert self._post(own_key, 10).status_code == 200
        for nonce in (10, 9):
            response = self._post(own_key, nonce)
            assert response.status_code == 429
            assert response.json() == NONCE_429

    def test_absent_nonce_window_means_increasing_mode(self, own_key):
        text_body = {"request": ACCOUNTS, "nonce": 5}
        payload_text = json.dumps(text_body, separators=(",", ":"))
        payload = base64.b64encode(payload_text.encode()).decode()
        headers = {
            "X-TXC-APIKEY": "counter-key",
            "X-TXC-PAYLOAD": payload,
            "X-TXC-SIGNATURE": signature_compute("counter-secret", payload),
        }
        url = own_key.base_url + ACCOUNTS
        assert requests.post(url, data=payload_text.encode(), headers=headers, timeout=10).status_code == 200
        assert requests.post(url, data=payload_text.encode(), headers=headers, timeout=10).status_code == 429

    def test_nonce_state_is_per_key(self, own_key):
        assert self._post(own_key, 10**15).status_code == 200
        assert own_key.post(ACCOUNTS, {}).status_code == 200  # the default key is unaffected


def test_unknown_route_is_404_empty(sandbox_pool):
    response = requests.post(sandbox_pool.base_url + "/api/v4/mining/nope", data=b"{}", timeout=10)
    assert response.status_code == 404
    assert response.content == b""


def test_get_is_405(sandbox_pool):
    response = requests.get(sandbox_pool.base_url + ACCOUNTS, timeout=10)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


def test_auth_comes_before_validation(sandbox_pool):
    response = sandbox_pool.post(MINER_INFO, {}, api_secret="wrong")
    assert response.status_code == 401


class TestFrozenClock:
    """The data clock is frozen; timestamps are judged by the real clock, so asking up to real now is fine."""

    def test_asking_past_the_frozen_time_returns_data_up_to_it(self, sandbox_pool):
        frozen = int(sandbox_pool.frozen_now.timestamp())
        # The fixed data clock lies in the past of the real one: "to" after it is no future timestamp.
        response = sandbox_pool.post(
            HASHRATE, {"account": "acct_001", "interval": "5m", "from": frozen - 2 * 3600, "to": frozen + 3600}
        )
        assert response.status_code == 200
        points = response.json()["data"]["hashrate"]
        assert points, "the hour before the frozen time has data"
        assert max(p["timestamp"] for p in points) == frozen - 300  # the last complete bucket

    def test_future_timestamp_is_422(self, sandbox_pool):
        response = sandbox_pool.post(HASHRATE, {"account": "acct_001", "to": int(time.time()) + 3600})
        assert response.status_code == 422
        assert response.json() == {"code": 422, "message": "Incorrect timestamp"}

    def test_moving_the_clock_reveals_more_data(self, sandbox_clean):
        frozen = sandbox_clean.frozen_now
        sandbox_clean.set_clock(frozen - timedelta(hours=2))
        body = {"account": "acct_001", "interval": "1h"}
        earlier = sandbox_clean.post(HASHRATE, body).json()["data"]["hashrate"]
        sandbox_clean.set_clock(frozen)
        later = sandbox_clean.post(HASHRATE, body).json()["data"]["hashrate"]
        assert earlier[-1]["timestamp"] + 7200 == later[-1]["timestamp"]
        overlap = {p["timestamp"]: p for p in later}
        for point in earlier:
            if point["timestamp"] in overlap:
                assert overlap[point["timestamp"]] == point  # history never changes
