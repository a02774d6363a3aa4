"""The contract's worked example (§1.6) as a test vector: body bytes, payload and signature must match exactly."""

from __future__ import annotations

import base64
import json

from mining.whitebit.signing import body_encode, payload_encode, request_sign, signature_compute

API_KEY = "EXAMPLE_API_KEY"
API_SECRET = "EXAMPLE_API_SECRET_0123456789"
BODY = {
    "request": "/api/v4/mining/hashrate",
    "nonce": 1709340000000,
    "nonceWindow": True,
    "account": "my_miner_01",
    "interval": "1h",
}
BODY_BYTES = (
    b'{"request":"/api/v4/mining/hashrate","nonce":1709340000000,"nonceWindow":true,'
    b'"account":"my_miner_01","interval":"1h"}'
)
PAYLOAD = (
    "eyJyZXF1ZXN0IjoiL2FwaS92NC9taW5pbmcvaGFzaHJhdGUiLCJub25jZSI6MTcwOTM0MDAwMDAwMCwibm9uY2VXaW5kb3ciOnRydWUsImFjY2"
    "91bnQiOiJteV9taW5lcl8wMSIsImludGVydmFsIjoiMWgifQ=="
)
SIGNATURE = (
    "bcd2cf8cd86c484daf6dddd3759587fb17905cf3a1bab148357251df1e2d512e"
    "3f8ed6d929bcb491ddd3c93b7cda3dc54503675d70bc5fd11802c200acf18529"
)


def test_worked_example_body_payload_signature():
    assert body_encode(BODY) == BODY_BYTES
    assert payload_encode(BODY_BYTES) == PAYLOAD
    assert signature_compute(API_SECRET, PAYLOAD) == SIGNATURE


def test_request_sign_sends_the_signed_bytes_and_headers():
    signed = request_sign(api_key=API_KEY, api_secret=API_SECRET, body=BODY)
    assert signed.body == BODY_BYTES
    assert signed.headers == {
        "Content-Type": "application/json",
        "X-TXC-APIKEY": API_KEY,
        "X-TXC-PAYLOAD": PAYLOAD,
        "X-TXC-SIGNATURE": SIGNATURE,
    }
    # The server checks body == base64-decode(payload): they must be the same bytes.
    assert base64.b64decode(signed.headers["X-TXC-PAYLOAD"]) == signed.body
    assert len(SIGNATURE) == 128 and SIGNATURE == SIGNATURE.lower()


def test_signing_is_compact_json():
    signed = request_sign(api_key=API_KEY, api_secret=API_SECRET, body={"a": [1, 2], "b": {"c": "d"}})
    assert b" " not in signed.body
    assert json.loads(signed.body) == {"a": [1, 2], "b": {"c": "d"}}
