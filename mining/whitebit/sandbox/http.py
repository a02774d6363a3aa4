"""The sandbox's HTTP pieces: replies, the pool's error bodies, and reading a WSGI request body.

Why a module of its own: every other part (authentication, faults, endpoints, control plane) answers with these
bodies, byte for byte as the real pool and its gateway do, because the client classifies errors by status, code and
body shape. Keeping them in one place keeps them identical wherever they are produced.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

MAX_BODY_BYTES = 1 << 20

NONCE_REPLAY_BODY = {"code": 0, "errors": {}, "message": "Too many requests."}
INTERNAL_ERROR_BODY = {"error": ["Internal server error."]}
GATEWAY_429_TEXT = b"Too Many Requests"
GATEWAY_503_HTML = (
    b"<html><head><title>503 Service Temporarily Unavailable</title></head>"
    b"<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)
MALFORMED_JSON = b'{"data":{"hashrate":[{"timestamp":17093'


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_reply(status: int, obj: Any) -> Reply:
    """Compact JSON, as the pool writes it."""
    return Reply(status, json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase}"


class ApiError(Exception):
    """Stops handling and answers `reply`."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def validation_failed(errors: dict[str, list[str]]) -> ApiError:
    """The pool's Laravel-style 400 with field errors."""
    return ApiError(json_reply(400, {"code": 0, "message": "Validation failed", "errors": errors}))


def incorrect_timestamp() -> ApiError:
    return ApiError(json_reply(422, {"code": 422, "message": "Incorrect timestamp"}))


def auth_error(status: int, code: int, message: str, *, with_errors: bool = False) -> ApiError:
    body: dict[str, Any] = {"code": code, "message": message}
    if with_errors:
        body["errors"] = {}
    return ApiError(json_reply(status, body))


def gateway_429() -> Reply:
    """The gateway's plain-text 429 (contract §5), not the pool's JSON envelope."""
    return Reply(429, GATEWAY_429_TEXT, "text/plain; charset=utf-8")


def is_loopback(remote_addr: str) -> bool:
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def read_body(environ: dict[str, Any]) -> bytes:
    """The request body, at most MAX_BODY_BYTES (413 beyond), by Content-Length or chunked."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length_text = environ.get("CONTENT_LENGTH") or ""
    if length_text.isdigit():
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            raise ApiError(Reply(413, content_type=None))
        return stream.read(length) if length else b""
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        data = stream.read(MAX_BODY_BYTES + 1)
        if len(data) > MAX_BODY_BYTES:
            raise ApiError(Reply(413, content_type=None))
        return data
    return b""
