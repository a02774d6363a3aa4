"""Request signing for WhiteBIT private v4 endpoints (contract §1.3), shared by the client and the sandbox.

The body is serialised once to compact JSON; the same bytes are base64-encoded into the payload, signed, and
sent. Re-serialising after signing would break the server's body == payload check.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SignedRequest:
    body: bytes
    headers: dict[str, str]


def body_encode(body: dict[str, Any]) -> bytes:
    """Compact JSON, as the pool requires (spaced JSON is rejected with code 9)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def payload_encode(body_bytes: bytes) -> str:
    return base64.b64encode(body_bytes).decode("ascii")


def signature_compute(api_secret: str, payload: str) -> str:
    """Lowercase hex HMAC-SHA512 of the base64 payload, keyed by the secret (128 hex characters)."""
    return hmac.new(api_secret.encode("utf-8"), payload.encode("ascii"), hashlib.sha512).hexdigest()


def request_sign(*, api_key: str, api_secret: str, body: dict[str, Any]) -> SignedRequest:
    body_bytes = body_encode(body)
    payload = payload_encode(body_bytes)
    return SignedRequest(
        body=body_bytes,
        headers={
            "Content-Type": "application/json",
            "X-TXC-APIKEY": api_key,
            "X-TXC-PAYLOAD": payload,
            "X-TXC-SIGNATURE": signature_compute(api_secret, payload),
        },
    )
